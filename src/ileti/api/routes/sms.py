"""Sending: ``/sms/send`` to one recipient, ``/group/send`` and ``/group/sendMixed`` to many."""

from __future__ import annotations

from fastapi import APIRouter

from ileti import codes
from ileti.api.endpoint import Context, Reply, endpoint
from ileti.api.schemas import (
    GroupSendMixedRequest,
    GroupSendRequest,
    GroupSendResponse,
    ScheduleFields,
    SendResponse,
    SmsSendRequest,
)
from ileti.api.sending import (
    MAX_RECIPIENTS,
    Order,
    Recipient,
    accept,
    encode,
    invalid,
    number_of,
    parse_content_type,
    parse_lang,
    recipients_of,
    schedule,
)
from ileti.codes import GatewayError
from ileti.domain.permissions import Permission
from ileti.store.messages import PRIORITY_BULK, PRIORITY_SINGLE

router = APIRouter()

SEND_ERRORS = (
    codes.NUMBER_MISSING,
    codes.TEXT_EMPTY,
    codes.INSUFFICIENT_BALANCE,
    codes.TITLE_INACTIVE,
    codes.TITLE_UNKNOWN,
    codes.INTERNATIONAL_DISABLED,
    codes.INVALID_NUMBER,
    codes.INVALID_SCHEDULE,
    codes.BLACKLISTED,
    codes.TOO_LONG,
)


def _title(title: str | None) -> str:
    if not title:
        raise invalid("title", "is required")
    return title


def _order(
    body: ScheduleFields, kind: str, title: str, priority: int, recipients: list[Recipient]
) -> Order:
    due, expires = schedule(
        body.scheduled_sms, body.scheduled_date, body.scheduled_time, body.validity_minutes
    )
    return Order(
        kind=kind,
        title=title,
        content_type=parse_content_type(body.content_type),
        lang=parse_lang(body.sms_lang),
        priority=priority,
        due_at=due,
        expires_at=expires,
        recipients=recipients,
    )


@endpoint(
    router,
    "/sms/send",
    summary="Send one message to one recipient.",
    request_model=SmsSendRequest,
    response_model=SendResponse,
    success_code=codes.SMS_ACCEPTED,
    permission=Permission.SEND_SINGLE_SMS,
    errors=SEND_ERRORS,
    tags=("sending",),
)
async def sms_send(ctx: Context, body: SmsSendRequest) -> Reply:
    raw = body.sentto if body.sentto is not None else body.mobile
    if raw is None or raw == "":
        raise GatewayError(codes.NUMBER_MISSING)
    if not body.text:
        raise GatewayError(codes.TEXT_EMPTY)
    title = _title(body.title)
    lang = parse_lang(body.sms_lang)
    number = number_of(raw)
    encoding = encode(body.text, lang, ctx.state.settings.max_segments)
    recipient = Recipient(0, str(raw)[:32], number, body.text, encoding)
    order = _order(body, "single", title, PRIORITY_SINGLE, [recipient])
    return await accept(ctx, order, "/sms/send", ctx.body)


def _group_numbers(sentto: list[object] | None) -> list[object]:
    if not sentto:
        raise GatewayError(codes.NUMBER_MISSING)
    if len(sentto) > MAX_RECIPIENTS:
        raise GatewayError(
            codes.TOO_MANY_RECIPIENTS,
            f"{len(sentto):,} recipients; at most {MAX_RECIPIENTS:,} a request.",
        )
    return sentto


@endpoint(
    router,
    "/group/send",
    summary="Send one text to many recipients (up to 100,000).",
    request_model=GroupSendRequest,
    response_model=GroupSendResponse,
    success_code=codes.SMS_ACCEPTED,
    permission=Permission.SEND_BULK_SMS,
    errors=SEND_ERRORS,
    tags=("sending",),
)
async def group_send(ctx: Context, body: GroupSendRequest) -> Reply:
    numbers = _group_numbers(body.sentto)  # type: ignore[arg-type]
    if not body.text:
        raise GatewayError(codes.TEXT_EMPTY)
    title = _title(body.title)
    lang = parse_lang(body.sms_lang)
    recipients, rejected = recipients_of(
        numbers, [body.text] * len(numbers), lang, ctx.state.settings.max_segments
    )
    order = _order(body, "group", title, PRIORITY_BULK, recipients)
    order.rejected, order.total, order.grouped = rejected, len(numbers), True
    return await accept(ctx, order, "/group/send", ctx.body)


@endpoint(
    router,
    "/group/sendMixed",
    summary="Send each recipient its own text (arrays of the same length).",
    request_model=GroupSendMixedRequest,
    response_model=GroupSendResponse,
    success_code=codes.SMS_ACCEPTED,
    permission=Permission.SEND_BULK_SMS,
    errors=(*SEND_ERRORS, codes.MIXED_LENGTH_MISMATCH),
    tags=("sending",),
)
async def group_send_mixed(ctx: Context, body: GroupSendMixedRequest) -> Reply:
    numbers = _group_numbers(body.sentto)  # type: ignore[arg-type]
    texts = body.text or []
    if len(texts) != len(numbers):
        raise GatewayError(codes.MIXED_LENGTH_MISMATCH)
    if not all(texts):
        raise GatewayError(codes.TEXT_EMPTY, "Every text must be non-empty.")
    title = _title(body.title)
    lang = parse_lang(body.sms_lang)
    recipients, rejected = recipients_of(numbers, texts, lang, ctx.state.settings.max_segments)
    order = _order(body, "group", title, PRIORITY_BULK, recipients)
    order.rejected, order.total, order.grouped = rejected, len(numbers), True
    return await accept(ctx, order, "/group/sendMixed", ctx.body)
