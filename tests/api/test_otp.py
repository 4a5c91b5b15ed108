"""One-time passwords through the API: issue, bill, verify, and refuse abuse."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select

from ileti.domain.clock import utcnow
from ileti.domain.otp import DEFAULT_TEMPLATES, OtpLang
from ileti.domain.permissions import Permission
from ileti.domain.signing import new_secret
from ileti.domain.webhooks import WebhookConfig
from ileti.store import accounts, keys, otp
from ileti.store.models import Message, Otp, QueueEntry, WebhookEvent
from ileti.store.webhooks import save_config
from support.api import Api, serving

NUMBER = "905321234567"


@pytest.fixture
async def api(api: Api) -> Api:
    """The API's account, with ACME as its OTP title."""
    async with api.db.write() as conn:
        await accounts.set_otp(conn, api.account_id, title="ACME")
    return api


async def send(api: Api, path: str = "/otp/send", key: str | None = None, **fields):
    body = {"api_key": key or api.key, **fields}
    response = await api.client.post(path, json=body)
    return response.status_code, response.json()


async def verify(api: Api, key: str | None = None, **fields) -> dict:
    return (await api.client.post("/otp/verify", json={"api_key": key or api.key, **fields})).json()


async def balance(api: Api) -> int:
    async with api.db.read() as conn:
        return (await accounts.balances(conn, api.account_id))[0]


async def rows(api: Api, table) -> list:
    async with api.db.read() as conn:
        return list(await conn.execute(select(table)))


async def test_an_otp_is_sent_billed_queued_first_and_kept_only_as_a_hash(api: Api) -> None:
    status, body = await send(api, mobile="0532 123 45 67", lang=1)
    assert status == 200 and body["result_code"] == "TS-1024"
    code = body["otp_code"]
    assert len(code) == 6 and code.isdigit()
    assert body["otp_id"].startswith("otp_")
    assert (body["sms_lang"], body["country"], body["number_of_sms"]) == ("Turkish", "Turkey-TR", 1)
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert 299 <= (expires - api.clock.now()).total_seconds() <= 300
    assert await balance(api) == 149
    [message] = await rows(api, Message.__table__)
    assert (message.id, message.kind, message.title) == (body["sms_id"], "otp", "ACME")
    assert message.text == DEFAULT_TEMPLATES[OtpLang.TURKISH].replace("TS-CODE", code)
    assert abs((message.expires_at - expires).total_seconds()) < 1
    [entry] = await rows(api, QueueEntry.__table__)
    assert entry.priority == 0
    [row] = await rows(api, Otp.__table__)
    assert row.id == body["otp_id"] and row.sentto == NUMBER
    assert code not in row.code_hash and code not in row.masked_text
    assert row.masked_text == DEFAULT_TEMPLATES[OtpLang.TURKISH].replace("TS-CODE", "••••••")


@pytest.mark.parametrize(
    ("lang", "sms_lang"), [(0, "English"), (1, "Turkish"), (2, "Unicode"), (None, "Unicode")]
)
async def test_lang_picks_the_template_and_its_encoding(api: Api, lang, sms_lang) -> None:
    fields = {"mobile": NUMBER, "digits": 4} | ({} if lang is None else {"lang": lang})
    _, body = await send(api, **fields)
    assert body["sms_lang"] == sms_lang and len(body["otp_code"]) == 4
    [message] = await rows(api, Message.__table__)
    template = DEFAULT_TEMPLATES[OtpLang(2 if lang is None else lang)]
    assert message.text == template.replace("TS-CODE", body["otp_code"])


async def test_the_operator_s_template_is_used(api: Api) -> None:
    async with api.db.write() as conn:
        await otp.set_template(conn, OtpLang.ENGLISH, "ACME code TS-CODE")
    _, body = await send(api, mobile=NUMBER, lang=0)
    [message] = await rows(api, Message.__table__)
    assert message.text == f"ACME code {body['otp_code']}"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"digits": 3}, "digits"),
        ({"digits": 7}, "digits"),
        ({"ttl_seconds": 59}, "ttl_seconds"),
        ({"ttl_seconds": 1801}, "ttl_seconds"),
        ({"lang": 3}, "lang"),
    ],
)
async def test_out_of_range_fields_are_refused_and_charge_nothing(api: Api, fields, field) -> None:
    status, body = await send(api, mobile=NUMBER, **fields)
    assert (status, body["result_code"]) == (400, "TS-1035")
    assert body["errors"][0]["field"] == field
    assert await balance(api) == 150
    assert await rows(api, Message.__table__) == []


async def test_without_an_otp_title_or_number(api: Api) -> None:
    assert (await send(api))[1]["result_code"] == "TS-1025"
    async with api.db.write() as conn:
        account = await accounts.create_account(conn, "other", utcnow(), credits=10)
        key, _ = await keys.create_key(conn, account.id, utcnow())
    status, body = await send(api, key=key, mobile=NUMBER)
    assert (status, body["result_code"]) == (403, "TS-1029")
    assert "OTP title" in body["result_message"]


async def test_a_key_without_the_otp_permission_is_refused(api: Api) -> None:
    key = await api.new_key(deny={Permission.SEND_OTP})
    assert (await send(api, key=key, mobile=NUMBER))[1]["result_code"] == "TS-1065"
    assert (await verify(api, key=key, otp_id="otp_x", code="1234"))["result_code"] == "TS-1065"


async def test_detailed_replaces_every_placeholder_of_either_spelling(api: Api) -> None:
    text = "ACME: TS-CODE. Tekrar: TS_CODE"
    _, body = await send(api, "/otp/detailed", mobile=NUMBER, title="ACME", text=text, lang=1)
    assert body["result_code"] == "TS-1024"
    code = body["otp_code"]
    [message] = await rows(api, Message.__table__)
    assert message.text == f"ACME: {code}. Tekrar: {code}"


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"text": "Your code is CODE"}, 400, "TS-1036"),
        ({"text": ""}, 400, "TS-1026"),
        ({"text": "x" * 1600 + " TS-CODE"}, 400, "TS-1046"),
        ({"text": "TS-CODE", "title": "ACME Promo"}, 403, "TS-1028"),
        ({"text": "TS-CODE", "title": "NOPE"}, 403, "TS-1029"),
        ({"text": "TS-CODE", "title": None}, 400, "TS-1035"),
    ],
)
async def test_detailed_refusals_write_nothing(api: Api, fields, status, code) -> None:
    got_status, body = await send(
        api, "/otp/detailed", mobile=NUMBER, **({"title": "ACME"} | fields)
    )
    assert (got_status, body["result_code"]) == (status, code)
    assert await rows(api, Message.__table__) == [] and await rows(api, Otp.__table__) == []
    assert await balance(api) == 150


async def test_the_right_code_verifies_once(api: Api) -> None:
    _, sent = await send(api, mobile=NUMBER)
    first = await verify(api, otp_id=sent["otp_id"], code=sent["otp_code"])
    assert first["result_code"] == "TS-1064"
    assert (first["otp_id"], first["sms_id"], first["verified"]) == (
        sent["otp_id"],
        sent["sms_id"],
        True,
    )
    again = await verify(api, otp_id=sent["otp_id"], code=sent["otp_code"])
    assert again["result_code"] == "TS-1043"


async def test_wrong_codes_use_attempts_until_none_are_left(api: Api) -> None:
    _, sent = await send(api, mobile=NUMBER)
    wrong = f"{(int(sent['otp_code']) + 1) % 1_000_000:06d}"
    answers = [await verify(api, otp_id=sent["otp_id"], code=wrong) for _ in range(5)]
    assert [a["result_code"] for a in answers] == ["TS-1042"] * 5
    assert "4 attempts left" in answers[0]["result_message"]
    assert "0 attempts left" in answers[-1]["result_message"]
    # Spent: even the right code is refused now.
    right = await verify(api, otp_id=sent["otp_id"], code=sent["otp_code"])
    assert right["result_code"] == "TS-1043"


async def test_an_expired_code_is_refused(api: Api) -> None:
    _, sent = await send(api, mobile=NUMBER, ttl_seconds=60)
    api.clock.advance(59)
    code = sent["otp_code"]
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert (await verify(api, otp_id=sent["otp_id"], code=wrong))["result_code"] == "TS-1042"
    api.clock.advance(1)
    answer = await verify(api, otp_id=sent["otp_id"], code=sent["otp_code"])
    assert answer["result_code"] == "TS-1043"


async def test_by_mobile_the_latest_live_otp_is_checked(api: Api) -> None:
    _, older = await send(api, mobile=NUMBER, digits=4)
    _, newer = await send(api, mobile=NUMBER, digits=5)
    assert (await verify(api, mobile="05321234567", code=older["otp_code"]))[
        "result_code"
    ] == "TS-1042"
    answer = await verify(api, mobile="05321234567", code=newer["otp_code"])
    assert (answer["result_code"], answer["otp_id"]) == ("TS-1064", newer["otp_id"])
    # The newer one is used; the older one is now the latest live one.
    answer = await verify(api, mobile=NUMBER, code=older["otp_code"])
    assert (answer["result_code"], answer["otp_id"]) == ("TS-1064", older["otp_id"])
    assert (await verify(api, mobile=NUMBER, code=older["otp_code"]))["result_code"] == "TS-1043"
    assert (await verify(api, mobile="905329999999", code="1234"))["result_code"] == "TS-1039"


@pytest.mark.parametrize("code", ["12a4", "", "123", "1234567", "１２３４", None, True])
async def test_a_code_that_is_not_4_to_6_digits_is_refused(api: Api, code) -> None:
    _, sent = await send(api, mobile=NUMBER)
    answer = await verify(api, otp_id=sent["otp_id"], code=code)
    assert answer["result_code"] == "TS-1035"
    assert answer["errors"][0]["field"] == "code"
    # Nothing was spent on it.
    [row] = await rows(api, Otp.__table__)
    assert row.attempts_left == 5


async def test_another_account_s_otp_is_as_unknown_as_a_made_up_one(api: Api) -> None:
    _, sent = await send(api, mobile=NUMBER)
    async with api.db.write() as conn:
        account = await accounts.create_account(conn, "other", utcnow(), credits=10)
        key, _ = await keys.create_key(conn, account.id, utcnow())
    theirs = await verify(api, key=key, otp_id=sent["otp_id"], code=sent["otp_code"])
    unknown = await verify(api, key=key, otp_id="otp_000000000000000000000000", code="123456")
    assert theirs["result_code"] == unknown["result_code"] == "TS-1039"
    assert theirs["result_message"] == unknown["result_message"]
    assert set(theirs) == set(unknown)
    # And it did not cost the owner an attempt.
    [row] = await rows(api, Otp.__table__)
    assert (row.attempts_left, row.status) == (5, "live")


async def test_racing_verifications_succeed_once(api: Api) -> None:
    _, sent = await send(api, mobile=NUMBER)
    answers = await asyncio.gather(
        *(verify(api, otp_id=sent["otp_id"], code=sent["otp_code"]) for _ in range(20))
    )
    assert Counter(a["result_code"] for a in answers) == {"TS-1064": 1, "TS-1043": 19}


async def test_verification_writes_an_otp_verified_event(api: Api) -> None:
    async with api.db.write() as conn:
        key_id = (await keys.list_keys(conn, api.account_id))[0].id
        config = WebhookConfig(url="https://hooks.example.com/x", secret=new_secret())
        await save_config(conn, key_id, config)
    _, sent = await send(api, mobile=NUMBER)
    await verify(api, otp_id=sent["otp_id"], code=sent["otp_code"])
    events = [e for e in await rows(api, WebhookEvent.__table__) if e.event_type == "otp.verified"]
    assert len(events) == 1
    assert f'"otp_id":"{sent["otp_id"]}"' in events[0].body
    assert '"status":"verified"' in events[0].body and sent["otp_code"] not in events[0].body


async def test_the_account_can_keep_the_code_out_of_the_answer(api: Api) -> None:
    async with api.db.write() as conn:
        await accounts.set_otp(conn, api.account_id, code_in_response=False)
    _, body = await send(api, mobile=NUMBER)
    assert body["result_code"] == "TS-1024" and "otp_code" not in body
    assert body["otp_id"] and body["expires_at"]


async def test_a_repeat_gets_the_first_answer_without_the_code(api: Api) -> None:
    _, first = await send(api, mobile=NUMBER)
    _, again = await send(api, mobile=NUMBER)
    assert again["otp_id"] == first["otp_id"] and "otp_code" not in again
    assert len(await rows(api, Otp.__table__)) == 1
    assert await balance(api) == 149


async def test_at_most_five_an_hour_to_one_number(api: Api) -> None:
    answers = [
        await send(api, mobile=NUMBER, digits=4 + i % 3, ttl_seconds=60 + i) for i in range(6)
    ]
    assert [b["result_code"] for _, b in answers] == ["TS-1024"] * 5 + ["TS-1060"]
    status, refused = answers[-1]
    assert status == 403 and "5 OTPs an hour to one number" in refused["result_message"]
    assert await balance(api) == 145
    assert len(await rows(api, Otp.__table__)) == 5
    # Another number is not held back.
    assert (await send(api, mobile="905329876543"))[1]["result_code"] == "TS-1024"


async def test_the_refusal_says_when_to_come_back(api: Api) -> None:
    for i in range(5):
        await send(api, mobile=NUMBER, ttl_seconds=100 + i)
    response = await api.client.post(
        "/otp/send", json={"api_key": api.key, "mobile": NUMBER, "ttl_seconds": 200}
    )
    assert response.json()["result_code"] == "TS-1060"
    assert int(response.headers["retry-after"]) == 3600
    # The hour is counted from the oldest of the five: once it has passed, one more may go.
    api.clock.advance(3600)
    assert (await send(api, mobile=NUMBER, ttl_seconds=300))[1]["result_code"] == "TS-1024"


@asynccontextmanager
async def gateway(api: Api, **settings: object) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(api.db, api.clock, **settings) as (client, _):
        yield client


async def test_a_ceiling_per_destination_country(api: Api) -> None:
    async with gateway(api, otp_per_country_hour=3) as client:
        codes = [
            (
                await client.post(
                    "/otp/send", json={"api_key": api.key, "mobile": f"90532000000{i}"}
                )
            ).json()
            for i in range(4)
        ]
        assert [c["result_code"] for c in codes] == ["TS-1024"] * 3 + ["TS-1060"]
        assert "3 OTPs an hour to Turkey" in codes[-1]["result_message"]
        metrics = (await client.get("/metrics")).text
    assert 'ileti_otp_refused_total{limit="country"}' in metrics


async def test_simultaneous_sends_to_one_number_stop_at_the_limit(api: Api) -> None:
    answers = await asyncio.gather(
        *(send(api, mobile=NUMBER, ttl_seconds=60 + i) for i in range(20))
    )
    assert Counter(b["result_code"] for _, b in answers) == {"TS-1024": 5, "TS-1060": 15}
    assert len(await rows(api, Otp.__table__)) == 5
    assert await balance(api) == 145
