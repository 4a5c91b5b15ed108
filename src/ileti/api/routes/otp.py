"""One-time passwords: ``/otp/send`` (the account's template and title), ``/otp/detailed``
(the caller's text and title) and ``/otp/verify``.

An OTP is a message like any other (billed, queued, followed) with the highest priority, plus
a row that holds its code as a keyed hash and what is left of its attempts.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti import codes
from ileti.api.endpoint import Context, Reply, endpoint
from ileti.api.routes.sms import SEND_ERRORS
from ileti.api.schemas import (
    OtpDetailedRequest,
    OtpSendRequest,
    OtpSendResponse,
    OtpVerifyRequest,
    OtpVerifyResponse,
)
from ileti.api.sending import (
    Order,
    OtpOrder,
    Recipient,
    accept,
    encode,
    invalid,
    number_of,
    parse_lang,
)
from ileti.codes import GatewayError
from ileti.domain import otp
from ileti.domain.encoding import SmsLang
from ileti.domain.otp import OtpLang
from ileti.domain.permissions import Permission
from ileti.store import otp as otp_store
from ileti.store import webhooks
from ileti.store.messages import PRIORITY_OTP
from ileti.store.models import Account, utcnow
from ileti.webhooks.events import EventType

router = APIRouter()
accounts = Account.__table__

OTP_ERRORS = (*SEND_ERRORS, codes.OTP_TEMPLATE_NO_CODE, codes.RATE_LIMITED)
# The encoding each template language goes out in.
_ENCODING = {OtpLang.ENGLISH: SmsLang.ENGLISH, OtpLang.TURKISH: SmsLang.TURKISH}


def _range(name: str, value: int | None, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not low <= value <= high:
        raise invalid(name, f"must be {low} to {high}")
    return value


async def _code_key(ctx: Context) -> bytes:
    """The key for code hashes: ``ILETI_OTP_SECRET``, else the installation's own."""
    state = ctx.state
    if state.otp_key is None:
        configured = state.settings.otp_secret
        if configured is not None:
            state.otp_key = configured.get_secret_value().encode()
        else:
            async with state.db.write() as conn:
                state.otp_key = await otp_store.code_key(conn)
    return state.otp_key


async def _issue(
    ctx: Context,
    body: OtpSendRequest,
    title: str,
    template: str,
    lang: SmsLang,
    code_in_response: bool,
    path: str,
) -> Reply:
    raw = body.sentto if body.sentto is not None else body.mobile
    if raw is None or raw == "":
        raise GatewayError(codes.NUMBER_MISSING)
    digits = _range("digits", body.digits, otp.MIN_DIGITS, otp.MAX_DIGITS, otp.DEFAULT_DIGITS)
    ttl = _range("ttl_seconds", body.ttl_seconds, otp.MIN_TTL, otp.MAX_TTL, otp.DEFAULT_TTL)
    number = number_of(raw)
    code = otp.new_code(digits)
    text = otp.render(template, code)
    encoding = encode(text, lang, ctx.state.settings.max_segments)
    otp_id = otp.new_otp_id()
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=ttl)
    order = Order(
        kind="otp",
        title=title,
        content_type=0,
        lang=lang,
        priority=PRIORITY_OTP,
        due_at=now,
        # A code that arrives after it expired is no use: the message's validity is its life.
        expires_at=expires,
        recipients=[Recipient(0, str(raw)[:32], number, text, encoding)],
        otp=OtpOrder(
            otp_id=otp_id,
            code=code,
            code_hash=otp.code_hash(await _code_key(ctx), otp_id, code),
            masked_text=otp.masked(template, code),
            expires_at=expires,
            attempts=ctx.state.settings.otp_attempts,
            code_in_response=code_in_response,
        ),
    )
    return await accept(ctx, order, path, ctx.body)


async def _account_otp_settings(ctx: Context) -> tuple[str | None, bool]:
    async with ctx.state.db.read() as conn:
        row = (
            await conn.execute(
                select(accounts.c.otp_title, accounts.c.otp_code_in_response).where(
                    accounts.c.id == ctx.caller.account_id
                )
            )
        ).one()
    return row[0], row[1]


@endpoint(
    router,
    "/otp/send",
    summary="Send a one-time password from the account's OTP title and template.",
    request_model=OtpSendRequest,
    response_model=OtpSendResponse,
    success_code=codes.SMS_ACCEPTED,
    permission=Permission.SEND_OTP,
    errors=OTP_ERRORS,
    tags=("otp",),
)
async def otp_send(ctx: Context, body: OtpSendRequest) -> Reply:
    lang = OtpLang(_range("lang", body.lang, 0, 2, OtpLang.ARABIC))
    title, code_in_response = await _account_otp_settings(ctx)
    if not title:
        raise GatewayError(codes.TITLE_UNKNOWN, "The account has no default OTP title.")
    async with ctx.state.db.read() as conn:
        template = await otp_store.template(conn, lang)
    encoding = _ENCODING.get(lang, SmsLang.UNICODE)
    return await _issue(ctx, body, title, template, encoding, code_in_response, "/otp/send")


@endpoint(
    router,
    "/otp/detailed",
    summary="Send a one-time password in the caller's own text (with TS-CODE) and title.",
    request_model=OtpDetailedRequest,
    response_model=OtpSendResponse,
    success_code=codes.SMS_ACCEPTED,
    permission=Permission.SEND_OTP,
    errors=OTP_ERRORS,
    tags=("otp",),
)
async def otp_detailed(ctx: Context, body: OtpDetailedRequest) -> Reply:
    if not body.title:
        raise invalid("title", "is required")
    if not body.text:
        raise GatewayError(codes.TEXT_EMPTY)
    try:
        template = otp.check_template(body.text)
    except otp.NoPlaceholder:
        raise GatewayError(codes.OTP_TEMPLATE_NO_CODE) from None
    lang = parse_lang(body.lang)
    _, code_in_response = await _account_otp_settings(ctx)
    return await _issue(ctx, body, body.title, template, lang, code_in_response, "/otp/detailed")


def _code_of(value: str | int | None) -> str:
    code = str(value).strip() if value is not None and not isinstance(value, bool) else ""
    if not (code.isascii() and code.isdigit() and otp.MIN_DIGITS <= len(code) <= otp.MAX_DIGITS):
        raise invalid("code", f"must be {otp.MIN_DIGITS} to {otp.MAX_DIGITS} digits")
    return code


@endpoint(
    router,
    "/otp/verify",
    summary="Check a code: by otp_id, or the latest live OTP of a number.",
    request_model=OtpVerifyRequest,
    response_model=OtpVerifyResponse,
    success_code=codes.OPERATION_OK,
    permission=Permission.SEND_OTP,
    errors=(codes.OTP_WRONG, codes.OTP_UNUSABLE, codes.NOT_FOUND, codes.INVALID_NUMBER),
    tags=("otp",),
)
async def otp_verify(ctx: Context, body: OtpVerifyRequest) -> Reply:
    code = _code_of(body.code)
    if not body.otp_id and body.mobile in (None, ""):
        raise invalid("otp_id", "give otp_id or mobile")
    number = number_of(body.mobile) if not body.otp_id else None
    key = await _code_key(ctx)
    account_id = ctx.caller.account_id
    now_ms = int(time.time() * 1000)
    verified, left = False, None
    async with ctx.state.db.write() as conn:
        if body.otp_id:
            found = await otp_store.find(conn, account_id, body.otp_id)
        else:
            assert number is not None
            found = await otp_store.latest(conn, account_id, number.digits, now_ms)
        if found is None:
            raise GatewayError(codes.NOT_FOUND, "Unknown OTP for this account.")
        if not found.usable(now_ms):
            raise GatewayError(codes.OTP_UNUSABLE)
        right = otp.code_matches(key, found.id, code, found.code_hash)
        if right:
            verified = await otp_store.mark_verified(conn, found.id, now_ms)
            if verified:
                await _announce(conn, found)
        else:
            left = await otp_store.use_attempt(conn, found.id, now_ms)
    # Outside the transaction: a wrong guess must stay counted, so it commits before refusing.
    if not right:
        if left is None:
            raise GatewayError(codes.OTP_UNUSABLE)
        raise GatewayError(
            codes.OTP_WRONG, f"OTP code is wrong; {left} attempt{'s' if left != 1 else ''} left."
        )
    if not verified:
        # Another request verified it (or spent it) between our read and our write.
        raise GatewayError(codes.OTP_UNUSABLE)
    ctx.state.notify_queued()
    fields = {"otp_id": found.id, "sms_id": found.message_id, "verified": True}
    return Reply(codes.OPERATION_OK, fields)


async def _announce(conn: AsyncConnection, found: otp_store.OtpView) -> None:
    """``otp.verified`` to the key's webhook, in the transaction that verifies."""
    data = {
        "otp_id": found.id,
        "sms_id": found.message_id,
        "status": "verified",
        "sentto": found.sentto,
    }
    await webhooks.emit(conn, found.key_id, EventType.OTP_VERIFIED, data, utcnow())
