"""One-time passwords: ``/otp/send`` (the account's template and title), ``/otp/detailed``
(the caller's text and title) and ``/otp/verify``."""

from __future__ import annotations

from fastapi import APIRouter

from ileti import codes
from ileti.api.endpoint import Context, Reply, endpoint
from ileti.api.routes.sms import SEND_ERRORS
from ileti.api.schemas import (
    OtpDetailedRequest,
    OtpFields,
    OtpSendRequest,
    OtpSendResponse,
    OtpVerifyRequest,
    OtpVerifyResponse,
)
from ileti.domain.permissions import Permission
from ileti.sending.otp import OtpCheck, OtpSend

router = APIRouter()

OTP_ERRORS = (*SEND_ERRORS, codes.OTP_TEMPLATE_NO_CODE, codes.RATE_LIMITED)


def _number(body: OtpFields) -> object:
    return body.sentto if body.sentto is not None else body.mobile


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
    send = OtpSend(_number(body), body.lang, body.digits, body.ttl_seconds)
    accepted = await ctx.services.otps.send(ctx.caller, send, ctx.identity())
    return Reply(codes.SMS_ACCEPTED, accepted.fields())


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
    send = OtpSend(
        _number(body), body.lang, body.digits, body.ttl_seconds, title=body.title, text=body.text
    )
    accepted = await ctx.services.otps.send_detailed(ctx.caller, send, ctx.identity())
    return Reply(codes.SMS_ACCEPTED, accepted.fields())


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
    check = OtpCheck(body.code, otp_id=body.otp_id, number=body.mobile)
    verified = await ctx.services.otps.verify(ctx.caller, check)
    return Reply(
        codes.OPERATION_OK,
        {"otp_id": verified.otp_id, "sms_id": verified.sms_id, "verified": True},
    )
