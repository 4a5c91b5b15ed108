"""/iys/consent/* as a client sees them, and Advertising sends checked against the records, on
SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import httpx

from ileti.compliance.consents import IysChange
from ileti.domain.consent import iys_date
from ileti.store import accounts, keys
from support.api import Api

ONE, TWO, THREE = "905321234567", "905321234568", "905321234569"
_SENDS = itertools.count()


def _body(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


async def _set_up(api: Api, mode: str = "enforce") -> None:
    await api.services.consents.configure(
        "acme",
        IysChange(
            url="http://127.0.0.1:9",
            iys_code="700123",
            brand_code="800456",
            username="brand",
            password="secret-password",
            mode=mode,
        ),
    )


def _when(api: Api, minutes_ago: float) -> str:
    return iys_date(api.clock.now() - timedelta(minutes=minutes_ago))


def _record(api: Api, number: str = ONE, **fields: Any) -> dict[str, Any]:
    base = {
        "recipient": number,
        "recipient_type": "BIREYSEL",
        "type": "MESAJ",
        "status": "ONAY",
        "source": "HS_WEB",
        "consent_date": _when(api, 60),
    }
    base.update(fields)
    return {name: value for name, value in base.items() if value is not None}


async def _add(api: Api, *records: Any) -> httpx.Response:
    return await api.post("/iys/consent/add", {"api_key": api.key, "consents": list(records)})


async def _send(api: Api, number: str, content_type: int = 2, **fields: Any) -> httpx.Response:
    return await api.post(
        "/sms/send",
        {
            "api_key": api.key,
            "title": "ACME",
            "text": f"Kampanya {next(_SENDS)}: %20 indirim",  # never a repeat of another
            "sentto": number,
            "content_type": content_type,
            **fields,
        },
    )


async def _credits(api: Api) -> int:
    return int(_body(await api.post("/balance"))["balance"]["main"])


async def test_an_account_without_iys_is_told_so(api: Api) -> None:
    body = _body(await _add(api, _record(api)), 403)
    assert body["result_code"] == "TS-1053"
    assert "operator" in body["result_message"]
    # Its sends are not checked.
    assert _body(await _send(api, ONE))["result_code"] == "TS-1024"


async def test_records_are_kept_by_iys_rules_each_refusal_named(api: Api) -> None:
    await _set_up(api)
    body = _body(
        await _add(
            api,
            _record(api, ONE),
            _record(api, TWO, status="RET"),  # a first record cannot be RET
            _record(api, THREE, source="SOMEWHERE"),
            _record(api, THREE, consent_date=_when(api, -60)),  # an hour from now
            _record(api, THREE, consent_date="2014-12-31 10:00:00"),
            _record(api, THREE, consent_date="yesterday"),
            _record(api, "02121234567"),  # a landline
            "not a record",
            _record(api, THREE, recipient_type="TACIR", source=None, consent_date=None),
        )
    )
    assert body["result_code"] == "TS-1064"
    assert body["accepted"] == 2
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [
        (1, "H109"),
        (2, "H105"),
        (3, "H108"),
        (4, "H107"),
        (5, "H106"),
        (6, "H101"),
        (7, "TS-1035"),
    ]
    assert body["rejected"][1]["message"].startswith("source:")
    status = _body(await api.post("/iys/consent/status", {"api_key": api.key, "recipient": ONE}))
    consent = status["consent"]
    assert (consent["recipient"], consent["status"], consent["source"]) == (ONE, "ONAY", "HS_WEB")
    assert (consent["origin"], consent["sync_state"], consent["in_force"]) == (
        "api",
        "pending",
        True,
    )
    trader = _body(
        await api.post(
            "/iys/consent/status",
            {"api_key": api.key, "recipient": THREE, "recipient_type": "TACIR"},
        )
    )["consent"]
    assert (trader["status"], trader["consent_date"], trader["source"]) == ("ONAY", None, None)
    nothing = _body(await api.post("/iys/consent/status", {"api_key": api.key, "recipient": TWO}))
    assert nothing["consent"] is None


async def test_a_history_follows_the_rules_between_records(api: Api) -> None:
    await _set_up(api)
    assert _body(await _add(api, _record(api, ONE, consent_date=_when(api, 60))))["accepted"] == 1
    refused = _body(
        await _add(
            api,
            _record(api, ONE, consent_date=_when(api, 30)),  # ONAY again
            _record(api, ONE, status="RET", consent_date=_when(api, 90)),  # before the ONAY
        ),
        400,
    )
    assert refused["result_code"] == "TS-1035"
    assert [e["message"][:4] for e in refused["errors"]] == ["H110", "H111"]
    # RET then ONAY again in one request: both kept, in order, the last in force.
    body = _body(
        await _add(
            api,
            _record(api, ONE, status="RET", consent_date=_when(api, 20)),
            _record(api, ONE, status="ONAY", consent_date=_when(api, 10)),
        )
    )
    assert body["accepted"] == 2
    listed = _body(await api.post("/iys/consent/list", {"api_key": api.key, "recipient": ONE}))
    assert [(c["status"], c["in_force"]) for c in listed["consents"]] == [
        ("ONAY", True),
        ("RET", False),
        ("ONAY", False),
    ]
    in_force = _body(await api.post("/iys/consent/list", {"api_key": api.key, "in_force": True}))
    assert [c["status"] for c in in_force["consents"]] == ["ONAY"]


async def test_a_list_is_paged_and_filtered(api: Api) -> None:
    await _set_up(api)
    numbers = [f"90532100{n:04d}" for n in range(25)]
    assert _body(await _add(api, *(_record(api, n) for n in numbers)))["accepted"] == 25
    seen: list[str] = []
    cursor = None
    while True:
        page = _body(
            await api.post(
                "/iys/consent/list",
                {"api_key": api.key, "limit": 10, **({"cursor": cursor} if cursor else {})},
            )
        )
        seen += [c["recipient"] for c in page["consents"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == numbers[::-1]
    none_ret = _body(await api.post("/iys/consent/list", {"api_key": api.key, "status": "RET"}))
    assert none_ret["consents"] == []


async def test_more_than_5000_records_are_refused_whole(api: Api) -> None:
    await _set_up(api)
    records = [_record(api, f"9053210{n:05d}") for n in range(5_001)]
    body = _body(await _add(api, *records), 413)
    assert body["result_code"] == "TS-1045"
    listed = _body(await api.post("/iys/consent/list", {"api_key": api.key}))
    assert listed["consents"] == []


async def test_advertising_goes_only_where_an_onay_is_in_force(api: Api) -> None:
    await _set_up(api)
    _body(await _add(api, _record(api, ONE)))
    before = await _credits(api)
    refused = _body(await _send(api, TWO), 403)
    assert refused["result_code"] == "TS-1052"
    assert await _credits(api) == before  # nothing charged
    assert _body(await _send(api, ONE))["result_code"] == "TS-1024"
    # Transactional and High Quality are not checked.
    assert _body(await _send(api, TWO, content_type=0))["result_code"] == "TS-1024"
    assert _body(await _send(api, TWO, content_type=1))["result_code"] == "TS-1024"
    # A trader's consent is another record.
    assert _body(await _send(api, ONE, iys_recipient_type="TACIR"), 403)["result_code"] == (
        "TS-1052"
    )
    bad = _body(await _send(api, ONE, iys_recipient_type="tacir"), 400)
    assert bad["result_code"] == "TS-1035"
    # A RET in force blocks as no record does.
    _body(await _add(api, _record(api, ONE, status="RET", consent_date=_when(api, 1))))
    assert _body(await _send(api, ONE), 403)["result_code"] == "TS-1052"
    # Numbers outside Turkey are not in İYS.
    async with api.db.write() as conn:
        await accounts.set_international(conn, api.account_id, True)
    assert _body(await _send(api, "4915123456789"))["result_code"] == "TS-1024"


async def test_a_group_leaves_out_each_number_without_consent_and_charges_the_rest(
    api: Api,
) -> None:
    await _set_up(api)
    _body(await _add(api, _record(api, ONE), _record(api, TWO)))
    await api.services.blacklist.add(api.account_id, TWO)
    before = await _credits(api)
    body = _body(
        await api.post(
            "/group/send",
            {
                "api_key": api.key,
                "title": "ACME",
                "text": "Kampanya",
                "sentto": [ONE, TWO, THREE],
                "content_type": 2,
            },
        )
    )
    assert body["success_count"] == 1
    assert [(r["sentto"], r["result_code"]) for r in body["rejected"]] == [
        (TWO, "TS-1044"),  # the blacklist comes first
        (THREE, "TS-1052"),
    ]
    assert await _credits(api) == before - 1
    mixed = _body(
        await api.post(
            "/group/sendMixed",
            {
                "api_key": api.key,
                "title": "ACME",
                "text": ["Sayın Ali", "Sayın Veli"],
                "sentto": [ONE, THREE],
                "content_type": 2,
            },
        )
    )
    assert [(r["sentto"], r["result_code"]) for r in mixed["rejected"]] == [(THREE, "TS-1052")]


async def test_mode_off_keeps_records_without_checking_sends(api: Api) -> None:
    await _set_up(api, mode="off")
    assert _body(await _send(api, TWO))["result_code"] == "TS-1024"
    await _set_up(api, mode="enforce")
    assert _body(await _send(api, TWO), 403)["result_code"] == "TS-1052"


async def test_another_accounts_records_are_never_seen_nor_used(api: Api) -> None:
    await _set_up(api)
    _body(await _add(api, _record(api, ONE)))
    now = api.clock.now()
    async with api.db.write() as conn:
        other = await accounts.create_account(conn, "other", now, credits=10)
        await accounts.add_title(conn, other.id, "OTHER", now, active=True)
        other_key, _ = await keys.create_key(conn, other.id, now)
    await api.services.consents.configure(
        "other",
        IysChange(
            url="http://127.0.0.1:9",
            iys_code="700123",
            brand_code="800456",  # the same brand code: still its own records
            username="other",
            password="pw",
            mode="enforce",
        ),
    )
    listed = _body(await api.post("/iys/consent/list", {"api_key": other_key}))
    assert listed["consents"] == []
    status = _body(await api.post("/iys/consent/status", {"api_key": other_key, "recipient": ONE}))
    assert status["consent"] is None
    send = await api.post(
        "/sms/send",
        {"api_key": other_key, "title": "OTHER", "text": "x", "sentto": ONE, "content_type": 2},
    )
    assert _body(send, 403)["result_code"] == "TS-1052"


async def test_the_endpoints_and_the_new_field_are_documented(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()
    for path in ("/iys/consent/add", "/iys/consent/status", "/iys/consent/list"):
        assert path in document["paths"]
    send = document["paths"]["/sms/send"]["post"]
    schema_name = send["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][schema_name.rsplit("/", 1)[1]]
    assert schema["properties"]["iys_recipient_type"]["enum"] == ["BIREYSEL", "TACIR", None]
    assert "TS-1052" in str(send["responses"])


async def test_a_campaign_previews_and_sends_only_the_numbers_with_consent(api: Api) -> None:
    await _set_up(api)
    _body(await _add(api, _record(api, ONE), _record(api, THREE)))
    customers = f"Ad;Telefon\nAyşe;{ONE}\nMehmet;{TWO}\nŞule;{THREE}\n".encode()
    form = {"api_key": api.key, "title": "ACME", "text": "Sayın {Ad}, kampanya!"}
    preview = _body(
        await api.client.post(
            "/campaign/preview",
            data={**form, "content_type": "2"},
            files={"file": ("musteriler.csv", customers, "text/csv")},
        )
    )
    assert (preview["valid"], preview["no_consent"], preview["invalid"]) == (2, 1, 0)
    assert [(r["row"], r["result_code"]) for r in preview["rejects"]] == [(3, "TS-1052")]
    informational = _body(
        await api.client.post(
            "/campaign/preview",
            data=form,
            files={"file": ("musteriler.csv", customers, "text/csv")},
        )
    )
    assert (informational["valid"], informational["no_consent"]) == (3, 0)
    before = await _credits(api)
    started = _body(
        await api.post(
            "/campaign/start",
            {**form, "upload_id": preview["upload_id"], "content_type": 2},
        )
    )
    assert started["success_count"] == 2
    assert [(r["row"], r["result_code"]) for r in started["rejected"]] == [(3, "TS-1052")]
    assert await _credits(api) == before - 2
