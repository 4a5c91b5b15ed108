"""/campaign/preview, /campaign/rejects, /campaign/start, /campaign/status, /campaign/list and
/campaign/cancel as a client sees them, on both databases."""

from __future__ import annotations

import csv
import io
from datetime import UTC, timedelta
from typing import Any

import httpx
import pytest

from ileti.domain.permissions import Permission
from ileti.domain.schedule import ISTANBUL
from ileti.store import accounts, keys
from support.api import Api, acme_api

TEMPLATE = "Sayın {Ad}, {Tutar|0} TL borcunuz var."
# Rows 2 and 8 can go; 3 has an empty name (no default), 4 no number that exists, 5 repeats
# row 2, 6 is blacklisted, 7 lost digits as a number.
CUSTOMERS = (
    "Ad,Telefon,Tutar\n"
    "Ayşe,0532 123 45 67,100\n"
    ",+90 533 111 22 33,5\n"
    "Ali,12,7\n"
    "Veli,905321234567,8\n"
    "Can,0535 123 45 67,9\n"
    "Ece,5.32123E+09,1\n"
    "Deniz,0544-123-45-67,\n"
).encode()


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"] is True, body
    return body


def _refused(response: httpx.Response, code: str) -> dict[str, Any]:
    body = response.json()
    assert body["result_code"] == code, body
    return body


async def _preview(
    api: Api,
    data: bytes = CUSTOMERS,
    file_name: str = "musteriler.csv",
    key: str | None = None,
    **fields: str,
) -> httpx.Response:
    form = {"api_key": key or api.key, "title": "ACME", "text": TEMPLATE, **fields}
    return await api.client.post(
        "/campaign/preview", data=form, files={"file": (file_name, data, "text/csv")}
    )


async def _start(api: Api, upload_id: str, **fields: object) -> httpx.Response:
    body = {"api_key": api.key, "upload_id": upload_id, "title": "ACME", "text": TEMPLATE}
    return await api.post("/campaign/start", {**body, **fields})


async def _credits(api: Api) -> int:
    return _ok(await api.post("/balance"))["balance"]["main"]


async def _blacklist(api: Api, number: str) -> None:
    _ok(await api.post("/blacklist/add", {"api_key": api.key, "number": number}))


async def test_a_preview_counts_the_rows_and_names_each_reject(api: Api) -> None:
    await _blacklist(api, "05351234567")
    body = _ok(await _preview(api))
    assert (body["rows"], body["valid"], body["invalid"]) == (7, 2, 3)
    assert (body["duplicates"], body["blacklisted"]) == (1, 1)
    assert (body["phone_column"], body["columns"]) == ("Telefon", ["Ad", "Telefon", "Tutar"])
    assert [(s["row"], s["sentto"], s["text"]) for s in body["samples"]] == [
        (2, "905321234567", "Sayın Ayşe, 100 TL borcunuz var."),
        (8, "905441234567", "Sayın Deniz, 0 TL borcunuz var."),
    ]
    assert [s["segments"] for s in body["samples"]] == [1, 1]
    assert sum(body["encodings"].values()) == 2
    assert body["segments"] == body["credits"] == 2
    assert body["balance"] == 150
    rejects = {r["row"]: r for r in body["rejects"]}
    assert sorted(rejects) == [3, 4, 5, 6, 7]
    assert "{Ad}" in rejects[3]["reason"]
    assert rejects[4]["result_code"] == "TS-1034"
    assert "row 2" in rejects[5]["reason"]
    assert rejects[6]["result_code"] == "TS-1044"
    assert rejects[7]["result_code"] == "TS-1034" and "lost digits" in rejects[7]["reason"]
    assert body["rejects_total"] == 5
    # A preview charges nothing.
    assert await _credits(api) == 150


async def test_the_rejects_download_as_csv(api: Api) -> None:
    upload_id = _ok(await _preview(api))["upload_id"]
    response = await api.post(
        "/campaign/rejects",
        {"api_key": api.key, "upload_id": upload_id, "title": "ACME", "text": TEMPLATE},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["row"]) for r in rows] == [3, 4, 5, 7]
    assert rows[0]["result_code"] == "TS-1026"


async def test_a_start_debits_once_and_sends_each_row_its_own_text(api: Api) -> None:
    upload_id = _ok(await _preview(api))["upload_id"]
    started = _ok(await _start(api, upload_id, name="Borç hatırlatma"))
    campaign_id = started["campaign_id"]
    assert started["group_id"] == campaign_id
    assert started["success_count"] == 3  # rows 2, 6 and 8: no blacklist here
    assert started["left_out_total"] == 2  # rows 3 and 7
    assert {r["row"] for r in started["rejected"]} == {4, 5}
    assert await _credits(api) == 147
    # Started again: the first answer, nothing charged twice.
    again = _ok(await _start(api, upload_id, name="Borç hatırlatma"))
    assert again["campaign_id"] == campaign_id
    assert await _credits(api) == 147
    page = _ok(
        await api.post(
            "/reports/messages", {"api_key": api.key, "group_id": campaign_id, "with_text": True}
        )
    )
    texts = {m["sentto"]: m["text"] for m in page["messages"]}
    assert texts == {
        "905321234567": "Sayın Ayşe, 100 TL borcunuz var.",
        "905351234567": "Sayın Can, 9 TL borcunuz var.",
        "905441234567": "Sayın Deniz, 0 TL borcunuz var.",
    }
    plain = _ok(await api.post("/reports/messages", {"api_key": api.key, "group_id": campaign_id}))
    assert all("text" not in m for m in plain["messages"])
    status = _ok(
        await api.post("/campaign/status", {"api_key": api.key, "campaign_id": campaign_id})
    )
    campaign = status["campaign"]
    assert (campaign["name"], campaign["file_name"]) == ("Borç hatırlatma", "musteriler.csv")
    assert (campaign["template"], campaign["title"]) == (TEMPLATE, "ACME")
    assert (campaign["accepted"], campaign["queued"], campaign["cancelled"]) == (3, 3, 0)
    listed = _ok(await api.post("/campaign/list", {"api_key": api.key}))
    assert [c["id"] for c in listed["campaigns"]] == [campaign_id]
    assert listed["next_before"] is None


async def test_a_scheduled_campaign_waits_and_its_cancel_refunds_it(api: Api) -> None:
    upload_id = _ok(await _preview(api))["upload_id"]
    due = (api.clock.now() + timedelta(days=1)).astimezone(ISTANBUL)
    started = _ok(
        await _start(
            api,
            upload_id,
            scheduled_sms=1,
            scheduled_date=due.strftime("%Y-%m-%d"),
            scheduled_time=due.strftime("%H:%M"),
        )
    )
    campaign_id = started["campaign_id"]
    assert await _credits(api) == 147
    status = _ok(
        await api.post("/campaign/status", {"api_key": api.key, "campaign_id": campaign_id})
    )
    minute = due.replace(second=0, microsecond=0).astimezone(UTC)
    assert status["campaign"]["due_at"] == minute.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert status["campaign"]["queued"] == 3
    cancelled = _ok(
        await api.post("/campaign/cancel", {"api_key": api.key, "campaign_id": campaign_id})
    )
    assert (cancelled["cancelled"], cancelled["refunded_credits"], cancelled["left"]) == (3, 3, 0)
    assert await _credits(api) == 150
    status = _ok(
        await api.post("/campaign/status", {"api_key": api.key, "campaign_id": campaign_id})
    )
    assert (status["campaign"]["cancelled"], status["campaign"]["queued"]) == (3, 0)


async def test_another_accounts_upload_and_campaign_are_unknown(api: Api) -> None:
    upload_id = _ok(await _preview(api))["upload_id"]
    campaign_id = _ok(await _start(api, upload_id))["campaign_id"]
    now = api.clock.now()
    async with api.db.write() as conn:
        rival = await accounts.create_account(conn, "rival", now, credits=50)
        await accounts.add_title(conn, rival.id, "ACME", now, active=True)
        rival_key, _ = await keys.create_key(conn, rival.id, now)
    body = {"api_key": rival_key, "upload_id": upload_id, "title": "ACME", "text": TEMPLATE}
    _refused(await api.post("/campaign/start", body), "TS-1039")
    _refused(await api.post("/campaign/rejects", body), "TS-1039")
    for path in ("/campaign/status", "/campaign/cancel"):
        _refused(
            await api.post(path, {"api_key": rival_key, "campaign_id": campaign_id}), "TS-1039"
        )
    assert _ok(await api.post("/campaign/list", {"api_key": rival_key}))["campaigns"] == []
    status = _ok(
        await api.post("/campaign/status", {"api_key": api.key, "campaign_id": campaign_id})
    )
    assert status["campaign"]["queued"] == 3
    async with api.db.read() as conn:
        assert (await accounts.balances(conn, rival.id))[0] == 50


@pytest.mark.parametrize(
    ("data", "file_name", "fields", "code", "said"),
    [
        (b"Ad,Soyad\nAyse,Yilmaz\n", "a.csv", {}, "TS-1035", "phone"),
        (b"", "a.csv", {}, "TS-1035", "empty"),
        (b"not a workbook", "a.xlsx", {}, "TS-1035", "xlsx"),
        (CUSTOMERS, "a.csv", {"text": "Sayın {Soyad}"}, "TS-1035", "Soyad"),
        (CUSTOMERS, "a.csv", {"title": "NOPE"}, "TS-1029", "NOPE"),
        (CUSTOMERS, "a.csv", {"sms_lang": "9"}, "TS-1035", "sms_lang"),
    ],
)
async def test_bad_files_and_options_get_a_clear_error_and_charge_nothing(
    api: Api, data: bytes, file_name: str, fields: dict[str, str], code: str, said: str
) -> None:
    body = _refused(await _preview(api, data, file_name, **fields), code)
    assert said.lower() in body["result_message"].lower() or said in str(body.get("errors")), body
    assert await _credits(api) == 150


async def test_a_row_over_the_segment_cap_is_rejected_alone(api: Api) -> None:
    data = ("Ad,Telefon\n" + "A" * 2000 + ",05321234567\nBora,05331234567\n").encode()
    body = _ok(await _preview(api, data, text="Merhaba {Ad}"))
    assert (body["valid"], body["invalid"]) == (1, 1)
    assert body["rejects"][0]["row"] == 2
    assert body["rejects"][0]["result_code"] == "TS-1046"
    started = _ok(await _start(api, body["upload_id"], text="Merhaba {Ad}"))
    assert started["success_count"] == 1
    assert [r["row"] for r in started["left_out"]] == [2]


async def test_a_file_over_the_row_limit_is_refused(db: Any) -> None:
    async with acme_api(db, campaign_max_rows=3) as api:
        data = b"Telefon\n" + b"".join(b"053212345%02d\n" % i for i in range(4))
        body = _refused(await _preview(api, data), "TS-1035")
        assert "3" in body["result_message"]
        assert await _credits(api) == 100


async def test_a_file_over_the_size_limit_is_refused_before_it_is_read(db: Any) -> None:
    async with acme_api(db, campaign_max_bytes=1000) as api:
        response = await _preview(api, b"Telefon\n" + b"05321234567\n" * 200)
        _refused(response, "TS-1045")


async def test_a_preview_needs_a_file_and_the_bulk_permission(api: Api) -> None:
    form = {"api_key": api.key, "title": "ACME", "text": TEMPLATE}
    no_file = await api.client.post("/campaign/preview", data=form, files={"note": (None, "x")})
    assert "file" in _refused(no_file, "TS-1035")["result_message"]
    _refused(await api.client.post("/campaign/preview", data=form), "TS-1033")
    _refused(await api.post("/campaign/preview", {"api_key": api.key}), "TS-1033")
    key = await api.new_key(deny={Permission.SEND_BULK_SMS})
    _refused(await _preview(api, key=key), "TS-1065")
