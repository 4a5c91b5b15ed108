"""What happened to an account's messages: one message, one group, a filtered page, day totals.

Every query is scoped to the account, so an id of another account reads exactly like an unknown
one. Pages are keyset pages on the message id (newest first): a page costs the same however deep
the walk goes, and rows that arrive meanwhile never shift it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, case, false, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.lifecycle import MessageStatus
from ileti.domain.schedule import ISTANBUL
from ileti.store.ledger import Balance
from ileti.store.models import Group, Message
from ileti.store.sql import is_postgres

messages = Message.__table__
groups = Group.__table__

# Message and group ids are 64-bit signed; a larger one names nothing (and no driver binds it).
MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    status: str
    title: str
    sentto: str
    segments: int
    country: str
    operator: str | None
    created_at: datetime
    sent_at: datetime | None
    done_at: datetime | None
    error_reason: str | None


@dataclass(frozen=True, slots=True)
class GroupView:
    id: int
    title: str
    total_recipients: int
    accepted: int
    number_of_sms: int
    created_at: datetime
    counts: dict[MessageStatus, int]


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Which messages a report covers; None leaves a criterion out."""

    since: datetime | None = None
    until: datetime | None = None
    status: MessageStatus | None = None
    title: str | None = None
    sentto: str | None = None
    group_id: int | None = None


@dataclass(frozen=True, slots=True)
class DayTotal:
    day: date
    status: MessageStatus
    count: int
    credits: int
    international_kurus: int


def istanbul_days(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """The UTC interval [since, until) that covers Istanbul days ``first`` to ``last``.

    None means unbounded: also where a bound lies beyond what a datetime can hold.
    """
    since = _day_start(first) if first is not None else None
    until = _day_start(last + timedelta(days=1)) if last is not None and last < date.max else None
    return since, until


def _day_start(day: date) -> datetime | None:
    try:
        return datetime.combine(day, time(), ISTANBUL).astimezone(UTC)
    except OverflowError:
        # Only the first day of year 1 begins before datetime.min in UTC.
        return None


_MESSAGE_COLUMNS = (
    messages.c.id,
    messages.c.status,
    messages.c.title,
    messages.c.sentto,
    messages.c.segments,
    messages.c.country,
    messages.c.operator,
    messages.c.created_at,
    messages.c.sent_at,
    messages.c.done_at,
    messages.c.error_reason,
)


async def find_message(
    conn: AsyncConnection, account_id: int, message_id: int
) -> MessageView | None:
    if not 0 < message_id <= MAX_ID:
        return None
    row = (
        await conn.execute(
            select(*_MESSAGE_COLUMNS).where(
                messages.c.id == message_id, messages.c.account_id == account_id
            )
        )
    ).first()
    return MessageView(*row) if row is not None else None


async def find_group(conn: AsyncConnection, account_id: int, group_id: int) -> GroupView | None:
    if not 0 < group_id <= MAX_ID:
        return None
    row = (
        await conn.execute(
            select(
                groups.c.id,
                groups.c.title,
                groups.c.total_recipients,
                groups.c.accepted,
                groups.c.number_of_sms,
                groups.c.created_at,
            ).where(groups.c.id == group_id, groups.c.account_id == account_id)
        )
    ).first()
    if row is None:
        return None
    counts = dict.fromkeys(MessageStatus, 0)
    for status, count in await conn.execute(
        select(messages.c.status, func.count())
        .where(messages.c.group_id == group_id)
        .group_by(messages.c.status)
    ):
        counts[MessageStatus(status)] = count
    return GroupView(*row, counts=counts)


def _filtered(stmt: Select, account_id: int, criteria: MessageFilter) -> Select:
    conditions: list[ColumnElement[bool]] = [messages.c.account_id == account_id]
    if criteria.since is not None:
        conditions.append(messages.c.created_at >= criteria.since)
    if criteria.until is not None:
        conditions.append(messages.c.created_at < criteria.until)
    if criteria.status is not None:
        conditions.append(messages.c.status == criteria.status.value)
    if criteria.title is not None:
        conditions.append(messages.c.title == criteria.title)
    if criteria.sentto is not None:
        conditions.append(messages.c.sentto == criteria.sentto)
    if criteria.group_id is not None:
        # An id beyond the column's range matches nothing.
        conditions.append(
            messages.c.group_id == criteria.group_id if criteria.group_id <= MAX_ID else false()
        )
    return stmt.where(*conditions)


async def message_page(
    conn: AsyncConnection,
    account_id: int,
    criteria: MessageFilter,
    *,
    limit: int,
    before: int | None = None,
) -> tuple[list[MessageView], int | None]:
    """Up to ``limit`` messages with ids below ``before``, newest first, and where the next
    page starts (None on the last page)."""
    stmt = _filtered(select(*_MESSAGE_COLUMNS), account_id, criteria)
    if before is not None and before <= MAX_ID:
        stmt = stmt.where(messages.c.id < before)
    rows = (await conn.execute(stmt.order_by(messages.c.id.desc()).limit(limit + 1))).all()
    page = [MessageView(*row) for row in rows[:limit]]
    return page, page[-1].id if len(rows) > limit else None


async def day_totals(
    conn: AsyncConnection, account_id: int, since: datetime | None, until: datetime | None
) -> list[DayTotal]:
    """Counts, credits and international kuruş per Istanbul day and state, oldest day first.

    The database groups by UTC hour (the same text on both engines, and Istanbul's offset has
    been whole hours since 1910); the hours are folded into Istanbul days here, so the result
    follows the zone's rules without a time zone database in SQLite.
    """
    if is_postgres(conn):
        hour = func.to_char(func.timezone("UTC", messages.c.created_at), "YYYY-MM-DD HH24")
    else:
        hour = func.strftime("%Y-%m-%d %H", messages.c.created_at)
    domestic = messages.c.cost_balance == Balance.MAIN.value
    stmt = _filtered(
        select(
            hour,
            messages.c.status,
            func.count(),
            func.sum(case((domestic, messages.c.segments), else_=0)),
            func.sum(case((domestic, 0), else_=messages.c.cost)),
        ),
        account_id,
        MessageFilter(since=since, until=until),
    ).group_by(hour, messages.c.status)
    totals: dict[tuple[date, MessageStatus], list[int]] = {}
    for hour_text, status, count, credits, kurus in await conn.execute(stmt):
        start = datetime.strptime(hour_text, "%Y-%m-%d %H").replace(tzinfo=UTC)
        key = (start.astimezone(ISTANBUL).date(), MessageStatus(status))
        total = totals.setdefault(key, [0, 0, 0])
        total[0] += count
        total[1] += int(credits)
        total[2] += int(kurus)
    lifecycle_order = {status: index for index, status in enumerate(MessageStatus)}
    return [
        DayTotal(day, status, *total)
        for (day, status), total in sorted(
            totals.items(), key=lambda item: (item[0][0], lifecycle_order[item[0][1]])
        )
    ]
