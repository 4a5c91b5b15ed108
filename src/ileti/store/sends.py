"""What the panel shows of an account's sends beyond the reports: one message in full with its
operator parts, the last sends (single messages and groups), and what is still waiting.

Every read is scoped to the account, so another account's id reads like an unknown one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain import priority
from ileti.domain.clock import to_ms
from ileti.domain.lifecycle import MessageStatus
from ileti.store.message_span import MAX_ID
from ileti.store.reports import scheduled_time
from ileti.store.sql import Raw, moment, reader


@dataclass(frozen=True, slots=True)
class MessagePartView:
    part: int
    carrier: str
    operator_id: str
    status: str
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class MessageDetail:
    id: int
    group_id: int | None
    kind: str
    status: str
    title: str
    sentto: str
    country: str
    operator: str | None
    text: str | None  # None once purged (the retention is over, or the number was erased)
    sms_lang: str
    segments: int
    cost: int
    cost_balance: str
    created_at: datetime
    due_at: datetime
    expires_at: datetime
    sent_at: datetime | None
    done_at: datetime | None
    error_reason: str | None

    @property
    def scheduled_at(self) -> datetime | None:
        return scheduled_time(self.created_at, self.due_at)


@dataclass(frozen=True, slots=True)
class RecentSend:
    """A single message, or a group (``recipients`` set, ``sentto`` and ``status`` None)."""

    id: int
    title: str
    created_at: datetime
    sentto: str | None = None
    status: str | None = None
    recipients: int | None = None


@dataclass(frozen=True, slots=True)
class Waiting:
    scheduled: int
    queued: int
    sent: int


_detail = reader(MessageDetail)
_part = reader(MessagePartView)
_DETAIL = Raw(
    "SELECT id, group_id, kind, status, title, sentto, country, operator,"
    " CASE WHEN purged_at IS NULL THEN text END AS text, sms_lang,"
    " segments, cost, cost_balance, created_at, due_at, expires_at, sent_at, done_at,"
    " error_reason FROM messages WHERE id = $1 AND account_id = $2"
)
_PARTS = Raw(
    "SELECT part, carrier, operator_id, status, done_at FROM message_parts"
    " WHERE message_id = $1 ORDER BY part"
)
_NEWEST = Raw(
    "SELECT id, group_id, title, sentto, status, created_at FROM messages"
    " WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
)
_GROUPS = Raw(
    "SELECT id, title, accepted, created_at FROM groups WHERE account_id = $1 AND id = ANY($2)"
)
# Messages on their way, from the counts kept per hour (PostgreSQL adds the changes not yet
# folded, in the same snapshot).
_COUNTED = "SELECT account_id, status, count FROM"
_ON_THEIR_WAY = Raw(
    "SELECT status, sum(count) AS count FROM"
    f" ({_COUNTED} message_counts UNION ALL {_COUNTED} message_count_changes) AS counted"
    " WHERE account_id = $1 AND status IN ('queued', 'sent') GROUP BY status",
    sqlite="SELECT status, sum(count) AS count FROM message_counts"
    " WHERE account_id = $1 AND status IN ('queued', 'sent') GROUP BY status",
)
# Scheduled for later: queued messages are those in the queue, and one due later waits there
# at least until then (no index holds a message's state). Every priority named, so that the
# queue's (priority, due_ms) index reads only the entries due later.
_SCHEDULED = Raw(
    "SELECT count(*) AS count FROM dispatch_queue AS q JOIN messages AS m ON m.id = q.message_id"
    f" WHERE q.priority IN ({', '.join(map(str, priority.EVERY))}) AND q.due_ms > $2"
    " AND m.account_id = $1 AND m.due_at > $3"
)


async def message_detail(
    conn: AsyncConnection, account_id: int, message_id: int
) -> MessageDetail | None:
    if not 0 < message_id <= MAX_ID:
        return None
    row = await _DETAIL.first(conn, message_id, account_id)
    return _detail(row) if row is not None else None


async def message_parts(conn: AsyncConnection, message_id: int) -> list[MessagePartView]:
    """The parts submitted to the operator (only a message found in its account is asked)."""
    return [_part(row) for row in await _PARTS.rows(conn, message_id)]


async def recent_sends(conn: AsyncConnection, account_id: int, count: int) -> list[RecentSend]:
    """The account's last ``count`` sends, newest first: each single message, and each group
    once (its messages come right after its id, so the walk goes on below the group's id)."""
    singles: dict[int, RecentSend] = {}
    group_ids: list[int] = []
    below = MAX_ID
    while len(singles) + len(group_ids) < count:
        rows = await _NEWEST.rows(conn, account_id, below, count)
        if not rows:
            break
        for row in rows:
            if row["group_id"] is None:
                singles[row["id"]] = RecentSend(
                    id=row["id"],
                    title=row["title"],
                    created_at=moment(row["created_at"]),
                    sentto=row["sentto"],
                    status=row["status"],
                )
            else:
                group_ids.append(row["group_id"])
                below = row["group_id"]
                break
            below = row["id"]
            if len(singles) + len(group_ids) == count:
                break
    groups = {
        row["id"]: RecentSend(
            id=row["id"],
            title=row["title"],
            created_at=moment(row["created_at"]),
            recipients=row["accepted"],
        )
        for row in (await _GROUPS.rows(conn, account_id, group_ids) if group_ids else [])
    }
    sends = [*singles.values(), *groups.values()]
    return sorted(sends, key=lambda send: send.id, reverse=True)[:count]


async def waiting(conn: AsyncConnection, account_id: int, now: datetime) -> Waiting:
    """Messages not yet sent (those scheduled for later apart) and sent awaiting a report."""
    counts = {
        MessageStatus(row["status"]): int(row["count"])
        for row in await _ON_THEIR_WAY.rows(conn, account_id)
    }
    scheduled = await _SCHEDULED.first(conn, account_id, to_ms(now), now)
    later = int(scheduled["count"]) if scheduled is not None else 0
    return Waiting(
        scheduled=later,
        queued=max(0, counts.get(MessageStatus.QUEUED, 0) - later),
        sent=counts.get(MessageStatus.SENT, 0),
    )
