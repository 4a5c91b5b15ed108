"""What happened to an account's messages: one message, one group, a filtered page, day totals.

Every query is scoped to the account, so an id of another account reads exactly like an unknown
one. Pages are keyset pages on the message id (newest first): a page costs the same however deep
the walk goes, and rows that arrive meanwhile never shift it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.lifecycle import MessageStatus
from ileti.domain.pricing import Balance
from ileti.domain.schedule import ISTANBUL
from ileti.store.message_span import MAX_ID, id_span
from ileti.store.sql import Composed, Raw, Row, moment, reader


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
    # The group it was sent in; None for a single send.
    group_id: int | None = None

    @property
    def scheduled_at(self) -> datetime | None:
        """When a scheduled message is due; None for one sent at once."""
        return scheduled_time(self.created_at, self.due_at)


@dataclass(frozen=True, slots=True)
class TextedMessage(MessageView):
    """A message with its text as stored (an OTP's masked once it left the queue); None once
    it was purged (retention or an erasure)."""

    text: str | None = None


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


def scheduled_time(created_at: datetime, due_at: datetime | None) -> datetime | None:
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


# How many of the account's messages a page filtered by state or title looks at, at most:
# neither is in an index (a state's would make every move of a message an index update), so
# a rare one would otherwise walk the whole account, millions of rows, for one page.
WALK = 20_000

_message = reader(MessageView)
_texted = reader(TextedMessage)
_COLUMNS = (
    "SELECT id, status, title, sentto, segments, country, operator, created_at, sent_at,"
    " done_at, error_reason, due_at, group_id"
)
_MESSAGE = _COLUMNS + " FROM messages"
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
# The id below a page's first ``walk`` messages of the account (keys only, on (account, id)).
_WALK_EDGE = Raw(
    "SELECT id FROM messages WHERE account_id = $1 AND id > $2 AND id < $3"
    " ORDER BY id DESC LIMIT 1 OFFSET $4"
)
_PAGE = Composed(
    _MESSAGE + " WHERE account_id = $1",
    {**_FILTERS, "after": "id > {}", "before": "id < {}"},
    "ORDER BY id DESC LIMIT {0}",
    fixed=1,
)
_TEXTED_PAGE = Composed(
    _COLUMNS + ", CASE WHEN purged_at IS NULL THEN text END AS text FROM messages"
    " WHERE account_id = $1",
    {**_FILTERS, "after": "id > {}", "before": "id < {}"},
    "ORDER BY id DESC LIMIT {0}",
    fixed=1,
)
# The scan of the messages: grouped by UTC hour, the same text on both engines; the hours are
# folded into Istanbul days here (its offset has been whole hours since 1910), so the result
# follows the zone's rules without a time zone database in SQLite. Day totals read the counts
# the triggers keep (below); this reads what they cannot split, part of an hour.
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
# The counts per hour and state (migration 0010): on PostgreSQL the folded rows and the
# changes not folded yet, added up in one statement (one snapshot); SQLite keeps no changes.
_COUNTED = "SELECT account_id, hour, status, count, credits, kurus FROM"
_SUMS = "sum(count) AS count, sum(credits) AS credits, sum(kurus) AS kurus"
_BOTH = f"({_COUNTED} message_counts UNION ALL {_COUNTED} message_count_changes) AS counted"
_HOUR_COUNTS = Composed(
    f"SELECT hour, status, {_SUMS} FROM {_BOTH} WHERE account_id = $1",
    {"since": "hour >= {}", "until": "hour < {}"},
    "GROUP BY hour, status HAVING sum(count) > 0",
    fixed=1,
    sqlite_head=f"SELECT hour, status, {_SUMS} FROM message_counts WHERE account_id = $1",
)
# The same, summed per Istanbul day by the database, for a range where the zone's offset
# ($2, in seconds) stays the same: a day's rows instead of its 24 hours'.
_DAY_COUNTS = Composed(
    "SELECT ((hour || ':00')::timestamp + $2::integer * interval '1 second')::date AS day,"
    f" status, {_SUMS} FROM {_BOTH} WHERE account_id = $1",
    {"since": "hour >= {}", "until": "hour < {}"},
    "GROUP BY day, status HAVING sum(count) > 0",
    fixed=2,
    sqlite_head=f"SELECT date(hour || ':00', $2 || ' seconds') AS day, status, {_SUMS}"
    " FROM message_counts WHERE account_id = $1",
)
# Longer ranges (and unbounded ones) are summed per hour, each folded into its day here.
_DAYS_SUMMED_IN_THE_DATABASE = 400


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
        scheduled_at=scheduled_time(created_at, due),
    )


async def message_page(
    conn: AsyncConnection,
    account_id: int,
    criteria: MessageFilter,
    *,
    limit: int,
    before: int | None = None,
    with_text: bool = False,
    walk: int = WALK,
) -> tuple[list[MessageView], int | None]:
    """Up to ``limit`` messages with ids below ``before``, newest first, and where the next
    page starts (None on the last page); ``with_text``: each a ``TextedMessage``.

    Filtered by state or title alone, a page looks at no more than ``walk`` of the account's
    messages: it may come back short, or empty, with a next page that goes on below them.
    """
    if criteria.group_id is not None and criteria.group_id > MAX_ID:
        return [], None  # an id beyond the column's range matches nothing
    if before is not None and before > MAX_ID:
        before = None
    # A range of days becomes a range of ids too, so the walk down the ids starts and stops
    # near the range instead of filtering every message newer and older than it.
    after, below = await id_span(conn, account_id, criteria.since, criteria.until)
    if below is not None:
        before = below if before is None else min(before, below)
    edge = await _walk_edge(conn, account_id, criteria, after, before, walk)
    if edge is not None:
        after = edge  # above ``after`` already: the edge was searched for above it
    statement, values = (_TEXTED_PAGE if with_text else _PAGE).bind(
        {
            "since": criteria.since,
            "until": criteria.until,
            "status": criteria.status.value if criteria.status is not None else None,
            "title": criteria.title,
            "sentto": criteria.sentto,
            "group_id": criteria.group_id,
            "after": after,
            "before": before,
        }
    )
    rows = await statement.rows(conn, account_id, *values, limit + 1)
    read = _texted if with_text else _message
    page = [read(row) for row in rows[:limit]]
    if len(rows) > limit:
        return page, page[-1].id
    # Short where the walk stopped, not where the messages end: the next page starts at the edge.
    return page, edge + 1 if edge is not None else None


async def _walk_edge(
    conn: AsyncConnection,
    account_id: int,
    criteria: MessageFilter,
    after: int | None,
    before: int | None,
    walk: int,
) -> int | None:
    """The id below the ``walk`` newest of the account's messages in (after, before), when a
    page filters by what no index holds (state, title) and more messages lie below; else None.
    """
    if criteria.sentto is not None or criteria.group_id is not None:
        return None  # their indexes end in the id: a page stops after its rows
    if criteria.status is None and criteria.title is None:
        return None  # every message in the span is a row: the page stops after its rows
    lowest = 0 if after is None else after
    highest = MAX_ID if before is None else before
    row = await _WALK_EDGE.first(conn, account_id, lowest, highest, walk)
    return row["id"] if row is not None else None


async def day_totals(
    conn: AsyncConnection, account_id: int, since: datetime | None, until: datetime | None
) -> list[DayTotal]:
    """Counts, credits and international kuruş per Istanbul day and state of the messages
    created in [since, until) (None: unbounded), oldest day first; what a report's summary
    and a dashboard show.

    Read from the counts kept per UTC hour, in the same time however many messages there are.
    A bound inside an hour (an Istanbul day began off the hour only before 1910) is read from
    the messages of that part of the hour, and only if the hour has any.
    """
    offset = _one_offset(since, until)
    if offset is not None:
        statement, values = _DAY_COUNTS.bind(
            {"since": _hour_text(_hour_of(since)), "until": _hour_text(_hour_of(until))}
        )
        return _in_order(
            ((_day(row["day"]), MessageStatus(row["status"])), row)
            for row in await statement.rows(conn, account_id, offset, *values)
        )
    first_hour, past_hour = _hour_of(since), _hour_of(until)
    if until is not None and not _on_the_hour(until) and past_hour is not None:
        past_hour = _next_hour(past_hour)
    statement, values = _HOUR_COUNTS.bind(
        {"since": _hour_text(first_hour), "until": _hour_text(past_hour)}
    )
    rows = await statement.rows(conn, account_id, *values)
    # The hours the range covers only in part, and the part of each it covers.
    parts = {
        _hour_text(hour): (max(since, hour) if since is not None else hour, _end_in(hour, until))
        for bound in (since, until)
        if bound is not None and not _on_the_hour(bound)
        for hour in [_hour_of(bound)]
        if hour is not None
    }
    if parts and any(row["hour"] in parts for row in rows):
        rows = [row for row in rows if row["hour"] not in parts]
        for part_since, part_until in parts.values():
            if part_since < part_until:
                scan, scan_values = _DAY_TOTALS.bind({"since": part_since, "until": part_until})
                rows += await scan.rows(conn, account_id, *scan_values)
    return _by_day(rows)


def _one_offset(since: datetime | None, until: datetime | None) -> int | None:
    """Istanbul's offset from UTC in seconds, if it is the same all through [since, until),
    both ends are on the hour and the range is not too long to check day by day; else None."""
    if since is None or until is None or not (_on_the_hour(since) and _on_the_hour(until)):
        return None
    days = (until - since).days
    if not 0 <= days <= _DAYS_SUMMED_IN_THE_DATABASE:
        return None
    try:
        # A change of offset lasts months: one seen at no day's start and at no end is none.
        moments = [since + timedelta(days=n) for n in range(days + 1)] + [until]
        offsets = {moment.astimezone(ISTANBUL).utcoffset() for moment in moments}
    except OverflowError:
        return None
    if len(offsets) != 1:
        return None
    [offset] = offsets
    return None if offset is None else int(offset.total_seconds())


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _by_day(rows: list[Row]) -> list[DayTotal]:
    days: dict[str, date] = {}

    def keyed(row: Row) -> tuple[date, MessageStatus]:
        hour = row["hour"]
        day = days.get(hour)
        if day is None:
            day = days[hour] = _istanbul_day(hour)
        return day, MessageStatus(row["status"])

    return _in_order((keyed(row), row) for row in rows)


def _in_order(keyed: Iterable[tuple[tuple[date, MessageStatus], Row]]) -> list[DayTotal]:
    """The rows summed per day and state, oldest day first, states in the lifecycle's order."""
    totals: dict[tuple[date, MessageStatus], list[int]] = {}
    for key, row in keyed:
        total = totals.setdefault(key, [0, 0, 0])
        total[0] += int(row["count"])
        total[1] += int(row["credits"])
        total[2] += int(row["kurus"])
    return [
        DayTotal(day, status, *total)
        for (day, status), total in sorted(
            totals.items(), key=lambda item: (item[0][0], _LIFECYCLE_ORDER[item[0][1]])
        )
    ]


_LIFECYCLE_ORDER = {status: index for index, status in enumerate(MessageStatus)}


def _istanbul_day(hour: str) -> date:
    """The Istanbul day a UTC hour ('YYYY-MM-DD HH') lies in."""
    start = datetime(int(hour[:4]), int(hour[5:7]), int(hour[8:10]), int(hour[11:13]), tzinfo=UTC)
    return start.astimezone(ISTANBUL).date()


def _hour_of(when: datetime | None) -> datetime | None:
    """The start of the UTC hour ``when`` lies in."""
    if when is None:
        return None
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _on_the_hour(when: datetime) -> bool:
    return _hour_of(when) == when


def _next_hour(hour: datetime) -> datetime | None:
    """The hour after; None past the last a datetime holds (no message is created there)."""
    try:
        return hour + timedelta(hours=1)
    except OverflowError:
        return None


def _end_in(hour: datetime, until: datetime | None) -> datetime:
    """Where the part of ``hour`` before ``until`` ends."""
    end = _next_hour(hour)
    if until is None:
        return end or datetime.max.replace(tzinfo=UTC)
    return until if end is None else min(end, until)


def _hour_text(hour: datetime | None) -> str | None:
    """An hour as the counts name it: 'YYYY-MM-DD HH' in UTC (four digits of year always)."""
    if hour is None:
        return None
    return f"{hour.year:04d}-{hour.month:02d}-{hour.day:02d} {hour.hour:02d}"
