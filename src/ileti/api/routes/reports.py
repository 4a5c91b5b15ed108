"""Asking what happened: ``/sms/status``, ``/reports/messages``, ``/reports/summary``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ileti import codes
from ileti.api.endpoint import Context, Reply, endpoint
from ileti.api.schemas import (
    MessageReportRequest,
    MessageReportResponse,
    SmsStatusRequest,
    SmsStatusResponse,
    SummaryRequest,
    SummaryResponse,
    cursor_of,
    timestamp,
)
from ileti.domain.permissions import Permission
from ileti.reporting.reports import GroupView, MessageQuery, MessageView, TextedMessage

router = APIRouter()


def _message_fields(message: MessageView) -> dict[str, Any]:
    return {
        "sms_id": message.id,
        "status": message.status,
        "title": message.title,
        "sentto": message.sentto,
        "number_of_sms": message.segments,
        "country": message.country,
        "operator": message.operator,
        "created_at": timestamp(message.created_at),
        "sent_at": timestamp(message.sent_at),
        "done_at": timestamp(message.done_at),
        "error_reason": message.error_reason,
        "scheduled_at": timestamp(message.scheduled_at),
    }


def _reported(message: MessageView) -> dict[str, Any]:
    fields = _message_fields(message)
    if isinstance(message, TextedMessage) and message.text is not None:
        fields["text"] = message.text
    return fields


def _group_fields(group: GroupView) -> dict[str, Any]:
    return {
        "group_id": group.id,
        "sms_id": group.id,
        "title": group.title,
        "total_recipients": group.total_recipients,
        "accepted": group.accepted,
        "number_of_sms": group.number_of_sms,
        "created_at": timestamp(group.created_at),
        "scheduled_at": timestamp(group.scheduled_at),
        "counts": {status.value: count for status, count in group.counts.items()},
    }


@endpoint(
    router,
    "/sms/status",
    summary="The state of one message, or the counts per state of a group.",
    request_model=SmsStatusRequest,
    response_model=SmsStatusResponse,
    success_code=codes.OPERATION_OK,
    permission=Permission.CHECK_SMS_STATUS,
    errors=(codes.NOT_FOUND,),
    tags=("reports",),
)
async def sms_status(ctx: Context, body: SmsStatusRequest) -> Reply:
    found = await ctx.services.reports.status(ctx.caller.account_id, body.sms_id)
    if isinstance(found, MessageView):
        return Reply(codes.OPERATION_OK, _message_fields(found))
    return Reply(codes.OPERATION_OK, _group_fields(found))


@endpoint(
    router,
    "/reports/messages",
    summary="The account's messages, newest first, filtered and paged by cursor.",
    request_model=MessageReportRequest,
    response_model=MessageReportResponse,
    success_code=codes.OPERATION_OK,
    permission=Permission.CHECK_SMS_STATUS,
    errors=(codes.INVALID_NUMBER,),
    tags=("reports",),
)
async def report_messages(ctx: Context, body: MessageReportRequest) -> Reply:
    query = MessageQuery(
        date_from=body.date_from,
        date_to=body.date_to,
        status=body.status,
        title=body.title,
        number=body.number,
        group_id=body.group_id,
        limit=body.limit,
        before=body.cursor,
        with_text=body.with_text,
    )
    page, next_position = await ctx.services.reports.messages(ctx.caller.account_id, query)
    return Reply(
        codes.OPERATION_OK,
        {
            "messages": [_reported(message) for message in page],
            "next_cursor": cursor_of(next_position) if next_position is not None else None,
        },
    )


@endpoint(
    router,
    "/reports/summary",
    summary="Message counts and charges per Europe/Istanbul day and state.",
    request_model=SummaryRequest,
    response_model=SummaryResponse,
    success_code=codes.OPERATION_OK,
    permission=Permission.CHECK_SMS_STATUS,
    tags=("reports",),
)
async def report_summary(ctx: Context, body: SummaryRequest) -> Reply:
    summary = await ctx.services.reports.summary(
        ctx.caller.account_id, body.date_from, body.date_to
    )
    return Reply(
        codes.OPERATION_OK,
        {
            "date_from": summary.date_from.isoformat(),
            "date_to": summary.date_to.isoformat(),
            "days": [
                {
                    "date": total.day.isoformat(),
                    "status": total.status.value,
                    "count": total.count,
                    "credits": total.credits,
                    "international_kurus": total.international_kurus,
                }
                for total in summary.days
            ],
        },
    )
