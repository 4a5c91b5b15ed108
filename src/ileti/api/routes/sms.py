"""Sending: ``/sms/send`` to one recipient, ``/group/send`` and ``/group/sendMixed`` to many;
``/sms/cancel`` calls off what of a message or a group no operator has yet."""

from __future__ import annotations

from fastapi import APIRouter

from ileti import codes
from ileti.api.endpoint import Context, Reply, endpoint
from ileti.api.schemas import (
    CancelRequest,
    CancelResponse,
    GroupSendMixedRequest,
    GroupSendRequest,
    GroupSendResponse,
    SendResponse,
    SmsSendRequest,
)
from ileti.codes import GatewayError
from ileti.domain.permissions import Permission
from ileti.sending.orders import GroupSend, SingleSend

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
    codes.NO_CONSENT,
    codes.TOO_LONG,
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
    send = SingleSend(
        title=body.title,
        text=body.text,
        number=body.sentto if body.sentto is not None else body.mobile,
        sms_lang=body.sms_lang,
        content_type=body.content_type,
        schedule=body.schedule(),
        iys_recipient_type=body.iys_recipient_type,
    )
    accepted = await ctx.services.sending.single(ctx.caller, send, ctx.identity())
    return Reply(codes.SMS_ACCEPTED, accepted.fields())


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
    send = GroupSend(
        title=body.title,
        numbers=body.sentto,
        text=body.text,
        sms_lang=body.sms_lang,
        content_type=body.content_type,
        schedule=body.schedule(),
        iys_recipient_type=body.iys_recipient_type,
    )
    accepted = await ctx.services.sending.group(ctx.caller, send, ctx.identity())
    return Reply(codes.SMS_ACCEPTED, accepted.fields())


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
    send = GroupSend(
        title=body.title,
        numbers=body.sentto,
        texts=body.text or [],
        sms_lang=body.sms_lang,
        content_type=body.content_type,
        schedule=body.schedule(),
        iys_recipient_type=body.iys_recipient_type,
    )
    accepted = await ctx.services.sending.group(ctx.caller, send, ctx.identity())
    return Reply(codes.SMS_ACCEPTED, accepted.fields())


@endpoint(
    router,
    "/sms/cancel",
    summary="Cancel a message or a group's messages that no operator has yet, and refund them.",
    request_model=CancelRequest,
    response_model=CancelResponse,
    success_code=codes.OPERATION_OK,
    # The permission that sent it: send_single_sms for a message, send_bulk_sms for a group.
    permission=None,
    errors=(codes.PERMISSION_DENIED, codes.NOT_FOUND),
    tags=("sending",),
)
async def sms_cancel(ctx: Context, body: CancelRequest) -> Reply:
    if (body.sms_id is None) != (body.group_id is None):
        needed = Permission.SEND_SINGLE_SMS if body.group_id is None else Permission.SEND_BULK_SMS
        if needed not in ctx.caller.key.permissions:
            raise GatewayError(
                codes.PERMISSION_DENIED, f"This key lacks the {needed.value} permission."
            )
    done = await ctx.services.sending.cancel(ctx.caller, sms_id=body.sms_id, group_id=body.group_id)
    return Reply(
        codes.OPERATION_OK,
        {
            "cancelled": done.cancelled,
            "refunded_credits": done.refunded_credits,
            "refunded_international": done.refunded_kurus,
            "left": done.left,
        },
    )
