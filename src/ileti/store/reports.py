"""What happened to an account's messages: one message, one group, a filtered page, day totals.

Every query is scoped to the account, so an id of another account reads exactly like an unknown
one. Pages are keyset pages on the message id (newest first): a page costs the same however deep
the walk goes, and rows that arrive meanwhile never shift it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.lifecycle import MessageStatus
from ileti.domain.pricing import Balance
from ileti.domain.schedule import ISTANBUL
from ileti.store.sql import Composed, Raw, moment, reader

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
    due_at: datetime

    @property
    def scheduled_at(self) -> datetime | None:
        """When a scheduled message is due; None for one sent at once."""
        return _scheduled(self.created_at, self.due_at)


@dataclass(frozen=True, slots=True)
class GroupView:
    id: int
    title: str
    total_recipients: int
    accepted: int
    number_of_sms: int
    created_at: datetime
    counts: dict[MessageStatus, int]
    # When its messages are due, if they were scheduled (a group's messages share one time).
    scheduled_at: datetime | None = None


def _scheduled(created_at: datetime, due_at: datetime | None) -> datetime | None:
    # A message sent at once is due when its checks began, a moment before or (its time kept
    # to the millisecond) after it was stored; one scheduled is due a minute later at least.
    if due_at is not None and due_at - created_at >= _SCHEDULED_AHEAD:
        return due_at
    return None


_SCHEDULED_AHEAD = timedelta(seconds=1)


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


_message = reader(MessageView)
_MESSAGE = (
    "SELECT id, status, title, sentto, segments, country, operator, created_at, sent_at,"
    " done_at, error_reason, due_at FROM messages"
)
_FILTERS = {
    "since": "created_at >= {}",
    "until": "created_at < {}",
    "status": "status = {}",
    "title": "title = {}",
    "sentto": "sentto = {}",
    "group_id": "group_id = {}",
}
_ONE_MESSAGE = Raw(_MESSAGE + " WHERE id = $1 AND account_id = $2")
_GROUP = Raw(
    "SELECT id, title, total_recipients, accepted, number_of_sms, created_at FROM groups"
    " WHERE id = $1 AND account_id = $2"
)
_GROUP_COUNTS = Raw(
    "SELECT status, count(*) AS count, max(due_at) AS due_at FROM messages"
    " WHERE group_id = $1 GROUP BY status"
)
_PAGE = Composed(
    _MESSAGE + " WHERE account_id = $1",
    {**_FILTERS, "before": "id < {}"},
    "ORDER BY id DESC LIMIT {0}",
    fixed=1,
)
# The database groups by UTC hour, the same text on both engines; the hours are folded into
# Istanbul days here (its offset has been whole hours since 1910), so the result follows the
# zone's rules without a time zone database in SQLite.
_TOTALS = (
    "SELECT {hour} AS hour, status, count(*) AS count,"
    f" sum(CASE WHEN cost_balance = '{Balance.MAIN.value}' THEN segments ELSE 0 END) AS credits,"
    f" sum(CASE WHEN cost_balance = '{Balance.MAIN.value}' THEN 0 ELSE cost END) AS kurus"
    " FROM messages WHERE account_id = $1"
)
_DAY_TOTALS = Composed(
    _TOTALS.format(hour="to_char(timezone('UTC', created_at), 'YYYY-MM-DD HH24')"),
    {"since": _FILTERS["since"], "until": _FILTERS["until"]},
    "GROUP BY hour, status",
    fixed=1,
    sqlite_head=_TOTALS.format(hour="strftime('%Y-%m-%d %H', created_at)"),
)


async def find_message(
    conn: AsyncConnection, account_id: int, message_id: int
) -> MessageView | None:
    if not 0 < message_id <= MAX_ID:
        return None
    row = await _ONE_MESSAGE.first(conn, message_id, account_id)
    return _message(row) if row is not None else None


async def find_group(conn: AsyncConnection, account_id: int, group_id: int) -> GroupView | None:
    if not 0 < group_id <= MAX_ID:
        return None
    row = await _GROUP.first(conn, group_id, account_id)
    if row is None:
        return None
    counts = dict.fromkeys(MessageStatus, 0)
    due: datetime | None = None
    for counted in await _GROUP_COUNTS.rows(conn, group_id):
        counts[MessageStatus(counted["status"])] = int(counted["count"])
        due_at = moment(counted["due_at"])
        due = due_at if due is None or due_at > due else due
    created_at = moment(row["created_at"])
    return GroupView(
        id=row["id"],
        title=row["title"],
        total_recipients=row["total_recipients"],
        accepted=row["accepted"],
        number_of_sms=row["number_of_sms"],
        created_at=created_at,
        counts=counts,
        scheduled_at=_scheduled(created_at, due),
    )


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
    if criteria.group_id is not None and criteria.group_id > MAX_ID:
        return [], None  # an id beyond the column's range matches nothing
    statement, values = _PAGE.bind(
        {
            "since": criteria.since,
            "until": criteria.until,
            "status": criteria.status.value if criteria.status is not None else None,
            "title": criteria.title,
            "sentto": criteria.sentto,
            "group_id": criteria.group_id,
            "before": before if before is not None and before <= MAX_ID else None,
        }
    )
    rows = await statement.rows(conn, account_id, *values, limit + 1)
    page = [_message(row) for row in rows[:limit]]
    return page, page[-1].id if len(rows) > limit else None


async def day_totals(
    conn: AsyncConnection, account_id: int, since: datetime | None, until: datetime | None
) -> list[DayTotal]:
    """Counts, credits and international kuruş per Istanbul day and state, oldest day first."""
    statement, values = _DAY_TOTALS.bind({"since": since, "until": until})
    totals: dict[tuple[date, MessageStatus], list[int]] = {}
    for row in await statement.rows(conn, account_id, *values):
        start = datetime.strptime(row["hour"], "%Y-%m-%d %H").replace(tzinfo=UTC)
        key = (start.astimezone(ISTANBUL).date(), MessageStatus(row["status"]))
        total = totals.setdefault(key, [0, 0, 0])
        total[0] += int(row["count"])
        total[1] += int(row["credits"])
        total[2] += int(row["kurus"])
    lifecycle_order = {status: index for index, status in enumerate(MessageStatus)}
    return [
        DayTotal(day, status, *total)
        for (day, status), total in sorted(
            totals.items(), key=lambda item: (item[0][0], lifecycle_order[item[0][1]])
        )
    ]
