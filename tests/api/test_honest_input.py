"""What a client sends is taken as it is or refused clearly: no type is coerced, no control
character is delivered, nothing it sent is echoed raw, and an answer says what the send cost and
what it was accepted despite."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from ileti.domain.clock import utcnow
from ileti.domain.schedule import ISTANBUL
from ileti.store import accounts
from ileti.store.models import Message
from support.api import Api

SEND = {"title": "ACME", "text": "Merhaba", "sentto": "905321234567"}
NUMBERS = ["905321234567", "905421234567", "905051234567"]


async def post(api: Api, path: str, **fields: object) -> httpx.Response:
    return await api.client.post(path, json={"api_key": api.key, **fields})


async def messages(api: Api) -> int:
    async with api.db.read() as conn:
        return (await conn.execute(select(func.count()).select_from(Message))).scalar_one()


async def credits(api: Api) -> int:
    async with api.db.read() as conn:
        return (await accounts.balances(conn, api.account_id))[0]


async def refused(response: httpx.Response, api: Api, code: str, field: str | None = None) -> dict:
    """The refusal, having checked that it names ``field`` and changed nothing."""
    body = response.json()
    assert (body["result"], body["result_code"]) == (False, code), body
    if field is not None:
        assert [error["field"] for error in body["errors"]] == [field], body
    assert await messages(api) == 0
    assert await credits(api) == 150
    return body


def accepted(response: httpx.Response) -> dict:
    body = response.json()
    assert (response.status_code, body["result_code"]) == (200, "TS-1024"), body
    return body


def _at(days: int = 1) -> datetime:
    return (datetime.now(ISTANBUL) + timedelta(days=days)).replace(second=0, microsecond=0)


# Types are not coerced ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/sms/send", "sms_lang", True),
        ("/sms/send", "sms_lang", 1.0),
        ("/sms/send", "content_type", True),
        ("/sms/send", "content_type", 1.0),
        ("/sms/send", "content_type", "1"),
        ("/sms/send", "validity_minutes", True),
        ("/sms/send", "validity_minutes", 60.0),
        ("/sms/send", "validity_minutes", "60"),
        ("/sms/send", "scheduled_sms", True),
        ("/sms/send", "scheduled_sms", 1.0),
        ("/sms/send", "sentto", True),
        ("/sms/send", "sentto", 905321234567.0),
        ("/sms/send", "sentto", -905321234567),
        ("/sms/send", "mobile", -905321234567),
        ("/group/send", "sentto", ["905321234567", -905421234567]),
        ("/group/send", "sentto", ["905321234567", True]),
        ("/group/send", "sentto", ["905321234567", 905421234567.0]),
        ("/group/send", "content_type", False),
        ("/otp/send", "digits", 6.0),
        ("/otp/send", "digits", "6"),
        ("/otp/send", "ttl_seconds", True),
        ("/otp/send", "ttl_seconds", "300"),
        ("/otp/send", "lang", True),
        ("/otp/send", "lang", 1.0),
        ("/otp/send", "mobile", -905321234567),
        ("/otp/detailed", "lang", True),
    ],
)
async def test_a_boolean_a_float_or_a_negative_number_is_refused_naming_the_field(
    api: Api, path: str, field: str, value: object
) -> None:
    async with api.db.write() as conn:
        await accounts.set_otp(conn, api.account_id, title="ACME")
    base = {
        "/sms/send": SEND,
        "/group/send": {"title": "ACME", "text": "Merhaba", "sentto": NUMBERS},
        "/otp/send": {"mobile": "905321234567"},
        "/otp/detailed": {"mobile": "905321234567", "title": "ACME", "text": "Kod TS-CODE"},
    }[path]
    response = await post(api, path, **{**base, field: value})
    assert response.status_code == 400
    await refused(response, api, "TS-1035", field)


async def test_the_service_refuses_what_the_api_would_whatever_door(api: Api) -> None:
    from ileti.codes import GatewayError
    from ileti.domain.permissions import Permission
    from ileti.sending.identity import RequestIdentity
    from ileti.sending.orders import Schedule, SingleSend

    caller = await api.services.access.authenticate(
        api.key, "127.0.0.1", Permission.SEND_SINGLE_SMS
    )
    for send, field in [
        (SingleSend("ACME", "Merhaba", "905321234567", sms_lang=True), "sms_lang"),
        (SingleSend("ACME", "Merhaba", "905321234567", content_type=True), "content_type"),
        (SingleSend("ACME", "Merhaba", -905321234567), "sentto"),
        (
            SingleSend("ACME", "Merhaba", "905321234567", schedule=Schedule(validity_minutes=0)),
            "validity_minutes",
        ),
        (
            SingleSend("ACME", "Merhaba", "905321234567", schedule=Schedule(scheduled=True)),
            "scheduled_sms",
        ),
    ]:
        with pytest.raises(GatewayError) as refusal:
            await api.services.sending.single(caller, send, RequestIdentity.of("panel", {}, None))
        assert refusal.value.result.code == "TS-1035"
        assert refusal.value.errors == [
            {"field": field, "message": refusal.value.errors[0]["message"]}
        ]
    assert await messages(api) == 0


async def test_numeric_strings_the_sdks_send_stay_accepted(api: Api) -> None:
    async with api.db.write() as conn:
        await accounts.set_otp(conn, api.account_id, title="ACME")
    due = _at()
    body = accepted(
        await post(
            api,
            "/sms/send",
            title="ACME",
            text="Merhaba",
            mobile="905321234567",
            sms_lang="1",
            scheduled_sms="1",
            scheduled_date=due.strftime("%Y-%m-%d"),
            scheduled_time=due.strftime("%H:%M"),
        )
    )
    assert body["sms_lang"] == "Turkish"
    status = (await post(api, "/sms/status", sms_id=str(body["sms_id"]))).json()
    assert status["result_code"] == "TS-1064"
    assert accepted(await post(api, "/sms/send", **{**SEND, "sentto": 905421234567}))
    assert accepted(await post(api, "/otp/send", mobile="905051234567", lang="1", digits=4))


@pytest.mark.parametrize(
    ("date", "time", "field"),
    [
        ("２０３０-01-01", "10:00", "scheduled_date"),
        ("2030-01-01", "１０:００", "scheduled_time"),
        ("٢٠٣٠-٠١-٠١", "10:00", "scheduled_date"),
    ],
)
async def test_full_width_digits_do_not_pass_in_schedules(
    api: Api, date: str, time: str, field: str
) -> None:
    response = await post(
        api, "/sms/send", **SEND, scheduled_sms=1, scheduled_date=date, scheduled_time=time
    )
    assert response.status_code == 400
    await refused(response, api, "TS-1038", field)


async def test_full_width_digits_are_no_phone_number(api: Api) -> None:
    response = await post(api, "/sms/send", **{**SEND, "sentto": "９０５３２１２３４５６７"})
    await refused(response, api, "TS-1034", "sentto")


# Texts and what answers echo ----------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x0b"])
async def test_control_characters_in_a_text_are_refused_naming_it(api: Api, char: str) -> None:
    response = await post(api, "/sms/send", **{**SEND, "text": f"Merhaba{char}dünya"})
    body = await refused(response, api, "TS-1035", "text")
    assert f"\\u{ord(char):04x}" in body["result_message"]
    mixed = await post(
        api, "/group/sendMixed", title="ACME", text=["iyi", f"kötü{char}"], sentto=NUMBERS[:2]
    )
    await refused(mixed, api, "TS-1035", "text[1]")
    group = await post(api, "/group/send", title="ACME", text=f"a{char}", sentto=NUMBERS)
    await refused(group, api, "TS-1035", "text")


async def test_control_characters_in_a_title_are_refused_naming_it(api: Api) -> None:
    response = await post(api, "/sms/send", **{**SEND, "title": "ACME\x00"})
    await refused(response, api, "TS-1035", "title")


async def test_newlines_and_tabs_are_text(api: Api) -> None:
    accepted(await post(api, "/sms/send", **{**SEND, "text": "Sayın müşteri,\r\n\tkodunuz 1234"}))


@pytest.mark.parametrize("blank", [" ", "   ", "\n\t ", "\u3000"])
async def test_a_text_of_only_whitespace_is_empty(api: Api, blank: str) -> None:
    await refused(await post(api, "/sms/send", **{**SEND, "text": blank}), api, "TS-1026")
    group = await post(api, "/group/send", title="ACME", text=blank, sentto=NUMBERS)
    await refused(group, api, "TS-1026")
    mixed = await post(
        api, "/group/sendMixed", title="ACME", text=["iyi", blank], sentto=NUMBERS[:2]
    )
    await refused(mixed, api, "TS-1026")


def _shows_nothing_hidden(message: str) -> bool:
    return not any(unicodedata.category(c) in {"Cc", "Cf"} for c in message)


async def test_messages_escape_what_they_quote(api: Api) -> None:
    number = await post(api, "/sms/send", **{**SEND, "sentto": "\u202e90532\u0000"})
    body = await refused(number, api, "TS-1034", "sentto")
    assert _shows_nothing_hidden(body["result_message"])
    assert "\\u202e" in body["result_message"]
    title = await post(api, "/sms/send", **{**SEND, "title": "AC\u202eME"})
    body = await refused(title, api, "TS-1029")
    assert _shows_nothing_hidden(body["result_message"]) and "\\u202e" in body["result_message"]
    group = accepted(
        await post(api, "/group/send", title="ACME", text="x", sentto=["905321234567", "\u202e1"])
    )
    assert group["rejected"][0]["sentto"] == "\\u202e1"


# Only numbers that can receive SMS ------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "what"),
    [
        ("02121234567", "landline"),
        ("+90 212 123 45 67", "landline"),
        ("08001234567", "toll-free"),
        ("08501234567", "VoIP"),
        ("442071234567", "landline"),
        ("905121234567", "pager"),
    ],
)
async def test_a_number_that_cannot_receive_sms_is_ts_1034_saying_why(
    api: Api, number: str, what: str
) -> None:
    body = await refused(await post(api, "/sms/send", **{**SEND, "sentto": number}), api, "TS-1034")
    assert what in body["result_message"]
    assert body["errors"] == [{"field": "sentto", "message": body["errors"][0]["message"]}]
    assert "cannot receive SMS" in body["errors"][0]["message"]


async def test_mobiles_and_numbers_the_plan_cannot_tell_are_accepted(api: Api) -> None:
    async with api.db.write() as conn:
        await accounts.set_international(conn, api.account_id, True)
    for number in ("905321234567", "447911123456", "12025550123"):
        accepted(await post(api, "/sms/send", **{**SEND, "sentto": number}))


async def test_a_group_leaves_landlines_out(api: Api) -> None:
    body = accepted(
        await post(api, "/group/send", title="ACME", text="x", sentto=[NUMBERS[0], "02121234567"])
    )
    assert body["rejected"] == [{"index": 1, "sentto": "02121234567", "result_code": "TS-1034"}]


# Warnings: what a send was accepted despite --------------------------------------------------


async def test_an_encoding_other_than_the_one_asked_for_is_a_warning(api: Api) -> None:
    body = accepted(await post(api, "/sms/send", **{**SEND, "text": "Merhaba 😀 €", "sms_lang": 0}))
    assert body["sms_lang"] == "Unicode"
    [warning] = body["warnings"]
    assert warning["field"] == "sms_lang"
    assert "Unicode" in warning["message"] and "😀" in warning["message"]
    turkish = accepted(await post(api, "/sms/send", **{**SEND, "text": "Selam 😀", "sms_lang": 1}))
    assert [w["field"] for w in turkish["warnings"]] == ["sms_lang"]


async def test_a_transliteration_that_changed_letters_is_a_warning(api: Api) -> None:
    body = accepted(await post(api, "/sms/send", **{**SEND, "text": "Şirket ğüç", "sms_lang": 0}))
    [warning] = body["warnings"]
    assert warning["field"] == "text"
    assert "Ş→S" in warning["message"] and "ğ→g" in warning["message"]
    assert "ü" not in warning["message"].split(":")[1].split(";")[0]


async def test_an_answer_has_no_warnings_when_there_is_nothing_to_say(api: Api) -> None:
    for fields in ({"sms_lang": 0}, {"sms_lang": 1, "text": "Şirket"}, {"sms_lang": "auto"}, {}):
        assert "warnings" not in accepted(await post(api, "/sms/send", **{**SEND, **fields}))


async def test_a_mixed_group_names_the_text_a_warning_is_about(api: Api) -> None:
    body = accepted(
        await post(
            api,
            "/group/sendMixed",
            title="ACME",
            text=["plain", "Şeker", "Ağaç"],
            sentto=NUMBERS,
            sms_lang=0,
        )
    )
    [warning] = body["warnings"]
    assert warning["field"] == "text[1]"
    assert "1 other text" in warning["message"]


async def test_a_repeat_gets_the_warnings_again(api: Api) -> None:
    fields = {**SEND, "text": "Şirket", "sms_lang": 0}
    first = accepted(await post(api, "/sms/send", **fields))
    assert accepted(await post(api, "/sms/send", **fields)) == first
    assert first["warnings"]


# Errors that say what to do -----------------------------------------------------------------


async def test_insufficient_balance_gives_what_is_needed_and_what_there_is(api: Api) -> None:
    response = await post(
        api,
        "/group/send",
        title="ACME",
        text="x" * 900,
        sms_lang=0,
        sentto=[f"9053212345{i:02d}" for i in range(30)],
    )
    body = await refused(response, api, "TS-1027")
    assert "180 credits" in body["result_message"] and "150 credits" in body["result_message"]


async def test_insufficient_international_balance_is_told_in_try(api: Api) -> None:
    async with api.db.write() as conn:
        await accounts.set_international(conn, api.account_id, True)
    response = await post(
        api, "/sms/send", **{**SEND, "sentto": "4915123456789", "text": "x" * 500}
    )
    body = await refused(response, api, "TS-1027")
    assert "12.80 TRY" in body["result_message"] and "12.50 TRY" in body["result_message"]


@pytest.mark.parametrize("given", ["acme", "Acme", "ACME ", "acmE"])
async def test_an_unknown_title_names_the_one_that_differs_only_in_case(
    api: Api, given: str
) -> None:
    body = await refused(await post(api, "/sms/send", **{**SEND, "title": given}), api, "TS-1029")
    if given.strip() == given:
        assert "ACME" in body["result_message"].replace(given, "")
    group = await post(api, "/group/send", title=given, text="x", sentto=NUMBERS)
    assert group.json()["result_message"] == body["result_message"]


async def test_an_unknown_title_names_the_one_that_differs_in_turkish_letters(api: Api) -> None:
    async with api.db.write() as conn:
        await accounts.add_title(conn, api.account_id, "ILETISIM", utcnow(), active=True)
    for given in ("İLETİŞİM", "iletişim", "ıletısım"):
        body = await refused(
            await post(api, "/sms/send", **{**SEND, "title": given}), api, "TS-1029"
        )
        assert "ILETISIM" in body["result_message"]
    plain = await refused(
        await post(api, "/sms/send", **{**SEND, "title": "OTHER"}), api, "TS-1029"
    )
    assert "ILETISIM" not in plain["result_message"] and "ACME" not in plain["result_message"]


# Scheduled messages tell when ---------------------------------------------------------------


async def test_a_scheduled_message_s_status_shows_when_it_is_due(api: Api) -> None:
    due = _at(days=2)
    schedule = {
        "scheduled_sms": 1,
        "scheduled_date": due.strftime("%Y-%m-%d"),
        "scheduled_time": due.strftime("%H:%M"),
    }
    single = accepted(await post(api, "/sms/send", **SEND, **schedule))
    group = accepted(
        await post(api, "/group/send", title="ACME", text="x", sentto=NUMBERS, **schedule)
    )
    now = accepted(await post(api, "/sms/send", **{**SEND, "text": "now"}))
    expected = due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for sms_id in (single["sms_id"], group["group_id"]):
        status = (await post(api, "/sms/status", sms_id=sms_id)).json()
        assert (status["result_code"], status["scheduled_at"]) == ("TS-1064", expected)
    assert (await post(api, "/sms/status", sms_id=now["sms_id"])).json()["scheduled_at"] is None
    page = (await post(api, "/reports/messages", limit=10)).json()
    assert {m["scheduled_at"] for m in page["messages"]} == {expected, None}
