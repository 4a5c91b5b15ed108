"""Asking what happened: ``/sms/status``, ``/reports/messages``, ``/reports/summary``."""

from __future__ import annotations

from datetime import UTC, date, datetime
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
from ileti.codes import GatewayError
from ileti.domain.numbers import InvalidNumber, normalise
from ileti.domain.permissions import Permission
from ileti.domain.schedule import ISTANBUL
from ileti.store.reports import (
    GroupView,
    MessageFilter,
    MessageView,
    day_totals,
    find_group,
    find_message,
    istanbul_days,
    message_page,
)

router = APIRouter()

SUMMARY_DAYS = 7


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
    }


def _group_fields(group: GroupView) -> dict[str, Any]:
    return {
        "group_id": group.id,
        "sms_id": group.id,
        "title": group.title,
        "total_recipients": group.total_recipients,
        "accepted": group.accepted,
        "number_of_sms": group.number_of_sms,
        "created_at": timestamp(group.created_at),
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
    account_id = ctx.caller.account_id
    async with ctx.state.db.read() as conn:
        message = await find_message(conn, account_id, body.sms_id)
    if message is not None:
        return Reply(codes.OPERATION_OK, _message_fields(message))
    # A group's counts read each of its messages (up to 100,000): a report.
    async with ctx.state.db.read(report=True) as conn:
        group = await find_group(conn, account_id, body.sms_id)
    if group is None:
        # The same answer for an unknown id and for another account's: nothing leaks.
        raise GatewayError(codes.NOT_FOUND)
    return Reply(codes.OPERATION_OK, _group_fields(group))


def _recipient(number: str) -> str:
    try:
        return normalise(number).digits
    except InvalidNumber:
        raise GatewayError(
            codes.INVALID_NUMBER,
            errors=[{"field": "number", "message": "is not a valid phone number"}],
        ) from None


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
    since, until = istanbul_days(body.date_from, body.date_to)
    criteria = MessageFilter(
        since=since,
        until=until,
        status=body.status,
        title=body.title,
        sentto=_recipient(body.number) if body.number is not None else None,
        group_id=body.group_id,
    )
    async with ctx.state.db.read(report=True) as conn:
        page, next_position = await message_page(
            conn, ctx.caller.account_id, criteria, limit=body.limit, before=body.cursor
        )
    return Reply(
        codes.OPERATION_OK,
        {
            "messages": [_message_fields(message) for message in page],
            "next_cursor": cursor_of(next_position) if next_position is not None else None,
        },
    )


def _summary_range(first: date | None, last: date | None) -> tuple[date, date]:
    """The days asked for; without them, the last seven days up to today in Istanbul."""
    last = last or datetime.now(UTC).astimezone(ISTANBUL).date()
    if first is None:
        first = date.fromordinal(max(1, last.toordinal() - (SUMMARY_DAYS - 1)))
    return first, last


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
    first, last = _summary_range(body.date_from, body.date_to)
    since, until = istanbul_days(first, last)
    async with ctx.state.db.read(report=True) as conn:
        totals = await day_totals(conn, ctx.caller.account_id, since, until)
    return Reply(
        codes.OPERATION_OK,
        {
            "date_from": first.isoformat(),
            "date_to": last.isoformat(),
            "days": [
                {
                    "date": total.day.isoformat(),
                    "status": total.status.value,
                    "count": total.count,
                    "credits": total.credits,
                    "international_kurus": total.international_kurus,
                }
                for total in totals
            ],
        },
    )
