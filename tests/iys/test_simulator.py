"""The İYS simulator over real HTTP: its tokens, İYS's rules with their H codes, the histories,
batches, the latest record, and the citizens' changes feed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from ileti.domain.consent import iys_date
from ileti.iys.simulator import IysSimulator
from iys.records import BRAND_CODE, CONSENTS, IYS_CODE, RECIPIENT, minutes_ago, record
from support.clock import ManualClock

if TYPE_CHECKING:
    from iys.conftest import StartIys

ADMIN = f"/admin/changes/{IYS_CODE}/{BRAND_CODE}"


async def bearer(http: httpx.AsyncClient, username: str = "ileti", password: str = "pw") -> str:
    answer = await http.post(
        "/oauth2/token", json={"username": username, "password": password, "grant_type": "password"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


@pytest.fixture
async def http(iys: IysSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=iys.url) as client:
        client.headers["Authorization"] = f"Bearer {await bearer(client)}"
        yield client


def codes(answer: httpx.Response) -> list[str]:
    return [error["code"] for error in answer.json()["errors"]]


async def add(http: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    return await http.post(CONSENTS, json=record(**fields))


# Tokens


async def test_a_password_grant_gives_tokens_in_iys_form(iys: IysSimulator):
    async with httpx.AsyncClient(base_url=iys.url) as http:
        answer = await http.post(
            "/oauth2/token", json={"username": "a", "password": "b", "grant_type": "password"}
        )
    token = answer.json()
    assert answer.status_code == 200
    assert (token["expires_in"], token["refresh_expires_in"], token["token_type"]) == (
        7200,
        14400,
        "Bearer",
    )
    assert token["access_token"] and token["refresh_token"]


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic aWxldGk6cHc="])
async def test_every_consent_endpoint_needs_a_token(iys: IysSimulator, authorization: str | None):
    headers = {"Authorization": authorization} if authorization else {}
    async with httpx.AsyncClient(base_url=iys.url, headers=headers) as http:
        answers = [
            await http.post(CONSENTS, json=record()),
            await http.post(f"{CONSENTS}/request", json=[record()]),
            await http.get(f"{CONSENTS}/request/anything"),
            await http.post(f"{CONSENTS}/status", json=record()),
            await http.get(f"{CONSENTS}/changes", params={"source": "HS"}),
        ]
    assert [answer.status_code for answer in answers] == [401] * 5
    assert all(codes(answer) == ["H002"] for answer in answers)
    assert iys.latest(IYS_CODE, BRAND_CODE, RECIPIENT) is None


async def test_with_credentials_set_only_the_right_ones_get_a_token(start_iys: StartIys):
    iys = await start_iys(username="ileti", password="s3cret")
    async with httpx.AsyncClient(base_url=iys.url) as http:
        wrong = await http.post(
            "/oauth2/token",
            json={"username": "ileti", "password": "guess", "grant_type": "password"},
        )
        assert wrong.status_code == 401
        assert codes(wrong) == ["H001"]
        assert await bearer(http, "ileti", "s3cret")


async def test_tokens_run_out_and_a_refresh_token_serves_once(start_iys: StartIys):
    clock = ManualClock()
    iys = await start_iys(clock=clock, access_ttl=100, refresh_ttl=300)
    async with httpx.AsyncClient(base_url=iys.url) as http:
        first = (
            await http.post(
                "/oauth2/token", json={"username": "a", "password": "b", "grant_type": "password"}
            )
        ).json()
        auth = {"Authorization": f"Bearer {first['access_token']}"}
        assert (await http.post(CONSENTS, json=record(), headers=auth)).status_code == 200

        clock.advance(101)
        withdrawn = record(status="RET", consentDate=iys_date(minutes_ago(30)))
        expired = await http.post(CONSENTS, json=withdrawn, headers=auth)
        assert (expired.status_code, codes(expired)) == (401, ["H002"])

        refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        renewed = await http.post("/oauth2/token", json=refresh)
        assert renewed.status_code == 200
        again = await http.post("/oauth2/token", json=refresh)
        assert (again.status_code, codes(again)) == (401, ["H002"])

        auth = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
        assert (await http.post(CONSENTS, json=withdrawn, headers=auth)).status_code == 200

        clock.advance(301)
        late = {"grant_type": "refresh_token", "refresh_token": renewed.json()["refresh_token"]}
        assert (await http.post("/oauth2/token", json=late)).status_code == 401
    assert iys.grants == {"password": 1, "refresh_token": 1}


# One record and İYS's rules


async def test_an_accepted_record_gets_a_transaction_and_is_kept(
    http: httpx.AsyncClient, iys: IysSimulator
):
    answer = await add(http)
    assert answer.status_code == 200
    assert answer.json()["transactionId"]
    assert answer.json()["creationDate"][:10] == iys_date(minutes_ago(0))[:10]
    kept = iys.latest(IYS_CODE, BRAND_CODE, RECIPIENT)
    assert kept is not None
    assert (kept.status, kept.source) == ("ONAY", "HS_WEB")


@pytest.mark.parametrize(
    ("fields", "code", "location"),
    [
        ({"recipient": "+12025550123"}, "H101", "recipient"),
        ({"recipientType": "KURUM"}, "H102", "recipientType"),
        ({"type": "FAKS"}, "H103", "type"),
        ({"status": "BELKI"}, "H104", "status"),
        # A brand cannot claim a consent a citizen gave on İYS's own channels.
        ({"source": "IYS_WEB"}, "H105", "source"),
        ({"consentDate": "dün öğlen"}, "H106", "consentDate"),
        ({"consentDate": "2015-04-30 23:59:59"}, "H107", "consentDate"),
        ({"consentDate": iys_date(minutes_ago(-60))}, "H108", "consentDate"),
        ({"consentDate": None}, "H112", "consentDate"),
        ({"source": None}, "H113", "source"),
    ],
)
async def test_a_wrong_field_is_refused_with_its_code(
    http: httpx.AsyncClient, iys: IysSimulator, fields: dict, code: str, location: str
):
    answer = await add(http, **fields)
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert (error["code"], error["location"]) == (code, location)
    assert error["message"]
    assert iys.latest(IYS_CODE, BRAND_CODE, RECIPIENT) is None


async def test_a_recipients_first_record_cannot_be_ret(http: httpx.AsyncClient):
    answer = await add(http, status="RET")
    assert (answer.status_code, codes(answer)) == (422, ["H109"])


async def test_the_same_status_cannot_follow_itself(http: httpx.AsyncClient):
    assert (await add(http)).status_code == 200
    answer = await add(http, consentDate=iys_date(minutes_ago(30)))
    assert (answer.status_code, codes(answer)) == (422, ["H110"])


async def test_a_record_must_be_dated_after_the_last_one(http: httpx.AsyncClient):
    # One moment for both: computed twice, a second may pass between them.
    first = minutes_ago(60)
    assert (await add(http, consentDate=iys_date(first))).status_code == 200
    for date in (first, first - timedelta(minutes=30)):
        answer = await add(http, status="RET", consentDate=iys_date(date))
        assert (answer.status_code, codes(answer)) == (422, ["H111"])


async def test_each_recipient_type_and_kind_has_a_history_of_its_own(
    http: httpx.AsyncClient, iys: IysSimulator
):
    steps = [("ONAY", 50), ("RET", 40), ("ONAY", 30)]
    for status, minutes in steps:
        answer = await add(http, status=status, consentDate=iys_date(minutes_ago(minutes)))
        assert answer.status_code == 200, answer.text
    history = iys.history(IYS_CODE, BRAND_CODE, RECIPIENT)
    assert [kept.status for kept in history] == ["ONAY", "RET", "ONAY"]

    # Calls (ARAMA), another recipient, a trader and another brand start afresh: RET is refused.
    for fields, path in [
        ({"type": "ARAMA"}, CONSENTS),
        ({"recipient": "+905329876543"}, CONSENTS),
        ({"recipientType": "TACIR"}, CONSENTS),
        ({}, f"/sps/{IYS_CODE}/brands/999/consents"),
    ]:
        answer = await http.post(path, json=record(status="RET", **fields))
        assert codes(answer) == ["H109"], fields
    assert iys.latest(IYS_CODE, "999", RECIPIENT) is None


async def test_a_trader_may_give_no_date_and_no_source(http: httpx.AsyncClient, iys: IysSimulator):
    answer = await add(http, recipientType="TACIR", consentDate=None, source=None)
    assert answer.status_code == 200, answer.text
    kept = iys.latest(IYS_CODE, BRAND_CODE, RECIPIENT, "TACIR")
    assert kept is not None
    assert (kept.source, kept.consent_date) == (None, None)
    # Undated, so any dated record may follow it.
    assert (await add(http, recipientType="TACIR", status="RET")).status_code == 200


@pytest.mark.parametrize("body", [b"{", b"[1, 2]", b'"text"'])
async def test_a_body_that_is_not_a_record_is_a_bad_request(http: httpx.AsyncClient, body: bytes):
    answer = await http.post(CONSENTS, content=body)
    assert (answer.status_code, codes(answer)) == (400, ["H003"])


# Many records at once


async def test_a_batch_is_enqueued_then_each_record_succeeds_or_fails(start_iys: StartIys):
    iys = await start_iys(batch_delay=0.3)
    records = [
        record(consentDate=iys_date(minutes_ago(50))),
        record(recipient="+905329876543", status="RET"),
        record(status="RET", consentDate=iys_date(minutes_ago(40))),
        "not a record",
    ]
    async with httpx.AsyncClient(base_url=iys.url) as http:
        http.headers["Authorization"] = f"Bearer {await bearer(http)}"
        sent = await http.post(f"{CONSENTS}/request", json=records)
        assert sent.status_code == 200
        path = f"{CONSENTS}/request/{sent.json()['requestId']}"

        first = (await http.get(path)).json()
        assert first == [{"index": i, "status": "enqueue"} for i in range(4)]

        async def processed() -> list[dict]:
            while True:
                items = (await http.get(path)).json()
                if all(item["status"] != "enqueue" for item in items):
                    return items
                await asyncio.sleep(0.05)

        items = await asyncio.wait_for(processed(), 5)
    assert [item["status"] for item in items] == ["success", "failure", "success", "failure"]
    assert items[0]["transactionId"] != items[2]["transactionId"]
    assert [error["code"] for error in items[1]["errors"]] == ["H109"]
    assert [error["code"] for error in items[3]["errors"]] == ["H003"]
    # In order: the third record followed the first.
    assert [kept.status for kept in iys.history(IYS_CODE, BRAND_CODE, RECIPIENT)] == ["ONAY", "RET"]


async def test_a_batch_holds_one_to_a_thousand_records(http: httpx.AsyncClient):
    for records in ([], [record()] * 1001, record()):
        answer = await http.post(f"{CONSENTS}/request", json=records)
        assert (answer.status_code, codes(answer)) == (400, ["H003"])


async def test_a_request_is_found_only_under_its_own_brand(http: httpx.AsyncClient):
    request_id = (await http.post(f"{CONSENTS}/request", json=[record()])).json()["requestId"]
    other = await http.get(f"/sps/{IYS_CODE}/brands/999/consents/request/{request_id}")
    unknown = await http.get(f"{CONSENTS}/request/no-such-request")
    assert (other.status_code, unknown.status_code) == (404, 404)


# The latest record


async def test_status_gives_the_latest_record_or_h120(http: httpx.AsyncClient):
    query = {"recipient": f"+{RECIPIENT}", "recipientType": "BIREYSEL", "type": "MESAJ"}
    none = await http.post(f"{CONSENTS}/status", json=query)
    assert (none.status_code, codes(none)) == (404, ["H120"])

    await add(http, consentDate=iys_date(minutes_ago(50)))
    date = iys_date(minutes_ago(40))
    withdrawn = (await add(http, status="RET", consentDate=date)).json()
    latest = await http.post(f"{CONSENTS}/status", json={**query, "recipient": "05321234567"})
    assert latest.status_code == 200
    assert latest.json() == {
        **record(status="RET", consentDate=date),
        "transactionId": withdrawn["transactionId"],
        "creationDate": withdrawn["creationDate"],
    }
    other_type = await http.post(f"{CONSENTS}/status", json={**query, "type": "ARAMA"})
    assert other_type.status_code == 404


@pytest.mark.parametrize(
    ("change", "code"),
    [({"recipient": "123"}, "H101"), ({"recipientType": "X"}, "H102"), ({"type": None}, "H103")],
)
async def test_status_checks_what_it_is_asked(http: httpx.AsyncClient, change: dict, code: str):
    query = {"recipient": f"+{RECIPIENT}", "recipientType": "BIREYSEL", "type": "MESAJ", **change}
    answer = await http.post(f"{CONSENTS}/status", json=query)
    assert (answer.status_code, codes(answer)) == (422, [code])


# Citizens' changes


async def citizen(http: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    """A citizen's change, posted without a token."""
    async with httpx.AsyncClient(base_url=http.base_url) as anyone:
        return await anyone.post(ADMIN, json=record(**{"source": "IYS_WEB", **fields}))


async def test_a_citizens_change_follows_the_rules_and_becomes_the_latest(
    http: httpx.AsyncClient, iys: IysSimulator
):
    # Changes come only from İYS's own channels, and meet the same rules.
    assert codes(await citizen(http, source="HS_WEB")) == ["H105"]
    assert codes(await citizen(http, status="RET")) == ["H109"]

    await add(http, consentDate=iys_date(minutes_ago(50)))
    answer = await citizen(
        http, status="RET", source="IYS_3338", consentDate=iys_date(minutes_ago(10))
    )
    assert answer.status_code == 200
    kept = iys.latest(IYS_CODE, BRAND_CODE, RECIPIENT)
    assert kept is not None
    assert (kept.status, kept.source) == ("RET", "IYS_3338")


async def test_the_changes_feed_pages_citizens_changes_by_cursor(http: httpx.AsyncClient):
    await add(http)  # the brand's own: not in the feed
    recipients = [f"+90532000000{i}" for i in range(5)]
    for recipient in recipients:
        assert (await citizen(http, recipient=recipient)).status_code == 200
    await http.post(f"/admin/changes/{IYS_CODE}/999", json=record(source="IYS_WEB"))

    seen, after, pages = [], None, 0
    while True:
        params = {"source": "HS", "limit": 2, **({"after": after} if after else {})}
        page = (await http.get(f"{CONSENTS}/changes", params=params)).json()
        if not page["list"]:
            assert page["after"] == after
            break
        assert all(item["source"] == "IYS_WEB" and item["transactionId"] for item in page["list"])
        seen += [item["recipient"] for item in page["list"]]
        after, pages = page["after"], pages + 1
    assert (seen, pages) == (recipients, 3)

    # Later changes come after the cursor the last page gave.
    await citizen(http, recipient=recipients[0], status="RET", consentDate=iys_date(minutes_ago(1)))
    page = (await http.get(f"{CONSENTS}/changes", params={"source": "HS", "after": after})).json()
    assert [(item["recipient"], item["status"]) for item in page["list"]] == [
        (recipients[0], "RET")
    ]


async def test_without_a_cursor_the_feed_starts_seven_days_back(start_iys: StartIys):
    clock = ManualClock()
    iys = await start_iys(clock=clock)
    async with httpx.AsyncClient(base_url=iys.url) as http:
        await citizen(http, recipient="+905320000001")
        clock.advance(8 * 86400)
        await citizen(http, recipient="+905320000002")
        http.headers["Authorization"] = f"Bearer {await bearer(http)}"
        recent = (await http.get(f"{CONSENTS}/changes", params={"source": "HS"})).json()
        every = await http.get(f"{CONSENTS}/changes", params={"source": "HS", "after": "0"})
    assert [item["recipient"] for item in recent["list"]] == ["+905320000002"]
    assert [item["recipient"] for item in every.json()["list"]] == [
        "+905320000001",
        "+905320000002",
    ]


@pytest.mark.parametrize(
    "params",
    [{}, {"source": "IYS"}, {"source": "HS", "after": "x"}, {"source": "HS", "limit": "1001"}],
)
async def test_the_feed_refuses_what_it_cannot_read(http: httpx.AsyncClient, params: dict):
    answer = await http.get(f"{CONSENTS}/changes", params=params)
    assert (answer.status_code, codes(answer)) == (400, ["H003"])


# Faults for tests


async def test_faults_answer_the_next_requests_and_every_request_is_counted(
    http: httpx.AsyncClient, iys: IysSimulator
):
    iys.fail_next(2, 429, retry_after=3)
    first, second, third = [await add(http) for _ in range(3)]
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "3"
    assert iys.requests[CONSENTS] == 3
    assert iys.requests["/oauth2/token"] == 1


async def test_a_delay_holds_every_answer(start_iys: StartIys):
    iys = await start_iys(delay=0.3)
    async with httpx.AsyncClient(base_url=iys.url, timeout=0.1) as http:
        with pytest.raises(httpx.ReadTimeout):
            await bearer(http)
