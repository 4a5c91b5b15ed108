"""The sending service called as a door other than the API would call it: no HTTP, the same
answers, the same refusals, the same rows and the same charge as ``/sms/send`` gives."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ileti import codes
from ileti.access.authenticator import Caller
from ileti.codes import GatewayError
from ileti.domain.permissions import Permission
from ileti.sending.identity import RequestIdentity
from ileti.sending.orders import GroupSend, SingleSend
from ileti.sending.otp import OtpCheck, OtpSend
from ileti.store.models import Message, QueueEntry
from support.api import Api

BODY = {"title": "ACME", "sentto": "905321234567", "text": "Merhaba"}


async def _caller(api: Api) -> Caller:
    return await api.services.access.authenticate(api.key, "127.0.0.1", Permission.SEND_SINGLE_SMS)


async def _balance(api: Api) -> int:
    return (await api.services.accounts.balances(api.account_id)).credits


async def _count(api: Api, table: type[Message] | type[QueueEntry]) -> int:
    async with api.db.read() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def test_a_send_through_the_service_answers_as_the_api_does(api: Api) -> None:
    caller = await _caller(api)
    send = SingleSend(title="ACME", text="Merhaba", number="0532 123 45 67")
    direct = await api.services.sending.single(caller, send, RequestIdentity.of("panel", {}, "a"))
    over_http = (await api.post("/sms/send", {"api_key": api.key, **BODY})).json()
    answered = {k: v for k, v in over_http.items() if not k.startswith("result")}
    assert {**direct.fields(), "sms_id": answered["sms_id"]} == answered
    assert direct.sms_id != answered["sms_id"]
    assert await _count(api, Message) == 2 and await _count(api, QueueEntry) == 2
    assert await _balance(api) == 98


async def test_a_request_the_api_answered_is_answered_again_by_the_service(api: Api) -> None:
    """The two doors name a request the same way: a repeat through either gets the first
    answer and creates nothing."""
    over_http = (await api.post("/sms/send", {"api_key": api.key, **BODY})).json()
    caller = await _caller(api)
    send = SingleSend(title="ACME", text="Merhaba", number="905321234567")
    again = await api.services.sending.single(
        caller, send, RequestIdentity.of("/sms/send", BODY, None)
    )
    assert again.sms_id == over_http["sms_id"]
    assert await _count(api, Message) == 1 and await _balance(api) == 99


@pytest.mark.parametrize(
    ("send", "refusal"),
    [
        (SingleSend(title="ACME", text="Merhaba", number=""), codes.NUMBER_MISSING),
        (SingleSend(title="ACME", text="", number="905321234567"), codes.TEXT_EMPTY),
        (SingleSend(title="NOPE", text="Merhaba", number="905321234567"), codes.TITLE_UNKNOWN),
        (SingleSend(title="ACME", text="Merhaba", number="12345"), codes.INVALID_NUMBER),
        (SingleSend(title="ACME", text="x" * 2000, number="905321234567"), codes.TOO_LONG),
    ],
)
async def test_the_service_refuses_as_the_api_does_and_writes_nothing(
    api: Api, send: SingleSend, refusal: codes.ResultCode
) -> None:
    with pytest.raises(GatewayError) as refused:
        await api.services.sending.single(
            await _caller(api), send, RequestIdentity.of("panel", {"n": 1}, None)
        )
    body = {"api_key": api.key, "title": send.title, "text": send.text, "sentto": send.number}
    over_http = (await api.post("/sms/send", body)).json()
    assert refused.value.result == refusal
    assert over_http["result_code"] == refusal.code
    assert await _count(api, Message) == 0 and await _balance(api) == 100


async def test_a_group_and_an_otp_through_the_service(api: Api) -> None:
    caller = await _caller(api)
    group = GroupSend(title="ACME", numbers=["905321234567", "bad", "905421234567"], text="Selam")
    accepted = await api.services.sending.group(caller, group, RequestIdentity.of("file", {}, "g"))
    assert (accepted.success_count, accepted.total_recipients) == (2, 3)
    assert [r.result for r in accepted.rejected or ()] == [codes.INVALID_NUMBER]
    otp = await api.services.otps.send(
        caller, OtpSend(number="905321234567", lang=1), RequestIdentity.of("otp", {}, "o")
    )
    assert otp.otp_id and otp.otp_code
    verified = await api.services.otps.verify(caller, OtpCheck(otp.otp_code, otp_id=otp.otp_id))
    assert verified.sms_id == otp.sms_id
    assert await _balance(api) == 97
