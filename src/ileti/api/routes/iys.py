"""The account's İYS consent records (ours, in the V4 style): ``/iys/consent/add``,
``/iys/consent/status``, ``/iys/consent/list``.

Adding records lets Advertising reach numbers, so it needs ``send_bulk_sms``; reading them
shows numbers, so it needs ``check_sms_status``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ileti import codes
from ileti.api.endpoint import Context, Reply, endpoint
from ileti.api.schemas import (
    ConsentAddRequest,
    ConsentAddResponse,
    ConsentListRequest,
    ConsentListResponse,
    ConsentStatusRequest,
    ConsentStatusResponse,
    cursor_of,
)
from ileti.codes import GatewayError
from ileti.compliance.consents import StoredConsent
from ileti.domain.consent import iys_date
from ileti.domain.permissions import Permission

router = APIRouter()
_ERRORS = (codes.IYS_NOT_SET_UP, codes.INVALID_FIELD)


def consent_fields(stored: StoredConsent) -> dict[str, Any]:
    record = stored.record
    return {
        "recipient": record.recipient,
        "recipient_type": record.recipient_type,
        "type": record.type,
        "status": record.status,
        "source": record.source,
        "consent_date": iys_date(record.consent_date) if record.consent_date else None,
        "origin": stored.origin,
        "in_force": stored.latest,
        "sync_state": stored.sync_state,
        "sync_error": stored.sync_error,
        "transaction_id": stored.transaction_id,
        "created_at": stored.created_at,
    }


@endpoint(
    router,
    "/iys/consent/add",
    summary="Keep İYS consent records for the account's brand (each checked by İYS's rules).",
    request_model=ConsentAddRequest,
    response_model=ConsentAddResponse,
    success_code=codes.OPERATION_OK,
    permission=Permission.SEND_BULK_SMS,
    errors=(*_ERRORS, codes.TOO_MANY_RECIPIENTS),
    tags=("iys",),
)
async def consent_add(ctx: Context, body: ConsentAddRequest) -> Reply:
    outcome = await ctx.services.consents.add(ctx.caller.account_id, body.consents or [], "api")
    rejected = [{"index": r.index, "code": r.code, "message": r.message} for r in outcome.rejected]
    if not outcome.accepted:
        raise GatewayError(
            codes.INVALID_FIELD,
            "No consent record could be kept.",
            errors=[
                {"field": f"consents[{r['index']}]", "message": f"{r['code']} {r['message']}"}
                for r in rejected[:100]
            ],
        )
    return Reply(codes.OPERATION_OK, {"accepted": outcome.accepted, "rejected": rejected})


@endpoint(
    router,
    "/iys/consent/status",
    summary="The record in force for one recipient, recipient type and type.",
    request_model=ConsentStatusRequest,
    response_model=ConsentStatusResponse,
    success_code=codes.QUERY_OK,
    permission=Permission.CHECK_SMS_STATUS,
    errors=_ERRORS,
    tags=("iys",),
)
async def consent_status(ctx: Context, body: ConsentStatusRequest) -> Reply:
    found = await ctx.services.consents.status(
        ctx.caller.account_id,
        body.recipient,
        body.recipient_type or "BIREYSEL",
        body.type or "MESAJ",
    )
    return Reply(codes.QUERY_OK, {"consent": consent_fields(found) if found else None})


@endpoint(
    router,
    "/iys/consent/list",
    summary="The account's consent records, newest first, filtered, paged by cursor.",
    request_model=ConsentListRequest,
    response_model=ConsentListResponse,
    success_code=codes.QUERY_OK,
    permission=Permission.CHECK_SMS_STATUS,
    errors=_ERRORS,
    tags=("iys",),
)
async def consent_list(ctx: Context, body: ConsentListRequest) -> Reply:
    page, next_position = await ctx.services.consents.page(
        ctx.caller.account_id,
        recipient=body.recipient,
        status=body.status,
        recipient_type=body.recipient_type,
        sync_state=body.sync_state,
        latest_only=bool(body.in_force),
        limit=body.limit,
        before=body.cursor,
    )
    return Reply(
        codes.QUERY_OK,
        {
            "consents": [consent_fields(stored) for stored in page],
            "next_cursor": cursor_of(next_position) if next_position is not None else None,
        },
    )
