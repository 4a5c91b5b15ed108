"""The dispatcher's queries: claim due messages under a lease, record what the carrier said.

Claims take a lease rather than a lock held across the network: a worker that dies leaves its
claims to expire, and another worker takes them again. A message whose parts are recorded is
never submitted again, even when its queue entry is claimed a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.lifecycle import MessageStatus
from ileti.store import ledger, webhooks
from ileti.store.ledger import Balance, EntryKind
from ileti.store.models import QueueEntry
from ileti.store.sql import Raw, is_postgres, moment

queue = QueueEntry.__table__


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed message, with what the dispatcher needs to send it."""

    id: int
    attempts: int
    title: str
    sentto: str
    text: str
    lang: str
    segments: int
    status: str
    expires_at: datetime
    already_submitted: bool
    priority: int = 2


@dataclass(frozen=True, slots=True)
class SubmittedPart:
    part: int
    operator_id: str | None  # None: this part was refused permanently


# No priority limit: every entry's priority is at most this.
_ANY_PRIORITY = 99

_ANY_DUE = Raw(
    "SELECT 1 FROM dispatch_queue WHERE due_ms <= $1 AND lease_until_ms < $1 AND priority <= $2"
    " LIMIT 1"
)
_LEASE = """UPDATE dispatch_queue SET lease_until_ms = $2, lease_owner = $3, attempts = attempts + 1
WHERE message_id IN (
    SELECT message_id FROM dispatch_queue
    WHERE due_ms <= $1 AND lease_until_ms < $1 AND priority <= $4
    ORDER BY priority, due_ms LIMIT $5 {lock}
)
RETURNING message_id, attempts, priority"""
_CLAIM = Raw(_LEASE.format(lock="FOR UPDATE SKIP LOCKED"), sqlite=_LEASE.format(lock=""))
_CLAIMED_MESSAGES = Raw(
    "SELECT id, title, sentto, text, lang, segments, status, expires_at FROM messages"
    " WHERE id = ANY($1)"
)
_SUBMITTED = Raw("SELECT DISTINCT message_id FROM message_parts WHERE message_id = ANY($1)")
_RECORD_PARTS = Raw(
    "INSERT INTO message_parts (message_id, part, carrier, operator_id, status, done_at, error)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
_MARK_SENT = Raw(
    "UPDATE messages SET status = 'sent', sent_at = $3, carrier = $2"
    " WHERE id = $1 AND status = 'queued'"
)
# PostgreSQL takes a batch as arrays, in one statement: row by row, each row would be planned
# on its own (a dispatcher's transaction plans for its values, see ``Database.write``).
_RECORD_PARTS_ALL = Raw(
    "INSERT INTO message_parts (message_id, part, carrier, operator_id, status, done_at, error)"
    " SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[],"
    " $6::timestamptz[], $7::text[])"
)
_MARK_SENT_ALL = Raw(
    "UPDATE messages AS m SET status = 'sent', sent_at = $3, carrier = w.carrier"
    " FROM unnest($1::bigint[], $2::text[]) AS w(id, carrier)"
    " WHERE m.id = w.id AND m.status = 'queued'"
)
_DEQUEUE = Raw("DELETE FROM dispatch_queue WHERE message_id = ANY($1)")
_RELEASE = Raw(
    "UPDATE dispatch_queue SET lease_until_ms = 0, lease_owner = NULL, attempts = attempts - 1"
    " WHERE message_id = ANY($1) AND lease_owner = $2"
)
_FINISH = Raw(
    "UPDATE messages SET status = $2, done_at = $3, error_reason = $4"
    " WHERE id = ANY($1) AND status = ANY($5)"
    " RETURNING id, account_id, cost, cost_balance, key_id, sentto, segments, group_id"
)


class Finished(NamedTuple):
    """A message that just reached a final state: what its refund and its event need."""

    id: int
    account_id: int
    cost: int
    cost_balance: str
    key_id: int
    sentto: str
    segments: int
    group_id: int | None


async def any_due(conn: AsyncConnection, now_ms: int, max_priority: int | None = None) -> bool:
    """Whether a claim would find work (at this priority or above): a read, so that a loop
    with nothing to do takes no write lock."""
    limit = _ANY_PRIORITY if max_priority is None else max_priority
    return bool(await _ANY_DUE.rows(conn, now_ms, limit))


async def claim(
    conn: AsyncConnection,
    owner: str,
    limit: int,
    now_ms: int,
    lease_ms: int,
    max_priority: int | None = None,
) -> list[Claimed]:
    """Lease up to ``limit`` due entries, most urgent first (OTP, then single, then bulk);
    with ``max_priority``, none less urgent than that."""
    highest = _ANY_PRIORITY if max_priority is None else max_priority
    leased = await _CLAIM.rows(conn, now_ms, now_ms + lease_ms, owner, highest, limit)
    if not leased:
        return []
    attempts = {row[0]: row[1] for row in leased}
    priorities = {row[0]: row[2] for row in leased}
    ids = list(attempts)
    found = await _CLAIMED_MESSAGES.rows(conn, ids)
    submitted = {row[0] for row in await _SUBMITTED.rows(conn, ids)}
    claimed = [
        Claimed(
            id=message_id,
            attempts=attempts[message_id],
            title=title,
            sentto=sentto,
            text=text,
            lang=lang,
            segments=segments,
            status=status,
            expires_at=moment(expires_at),
            already_submitted=message_id in submitted,
            priority=priorities[message_id],
        )
        for message_id, title, sentto, text, lang, segments, status, expires_at in found
    ]
    claimed.sort(key=lambda c: c.id)
    return claimed


async def record_sent(
    conn: AsyncConnection,
    sent: Sequence[tuple[int, str, list[SubmittedPart]]],
    now: datetime,
) -> None:
    """Messages the carrier took: their parts' ids, the state ``sent``, off the queue."""
    if not sent:
        return
    await webhooks.announce_sent(conn, [message_id for message_id, _, _ in sent], now)
    sent_value = MessageStatus.SENT.value
    failed_value = MessageStatus.FAILED.value
    part_rows = [
        (message_id, p.part, carrier, p.operator_id, sent_value, None, None)
        if p.operator_id
        else (message_id, p.part, carrier, "", failed_value, now, "refused by the operator")
        for message_id, carrier, message_parts in sent
        for p in message_parts
    ]
    if is_postgres(conn):
        await _RECORD_PARTS_ALL.run(conn, *map(list, zip(*part_rows, strict=True)))
        await _MARK_SENT_ALL.run(
            conn, [message_id for message_id, _, _ in sent], [c for _, c, _ in sent], now
        )
    else:
        await _RECORD_PARTS.run_many(conn, part_rows)
        await _MARK_SENT.run_many(conn, [(message_id, c, now) for message_id, c, _ in sent])
    await dequeue(conn, [message_id for message_id, _, _ in sent])


async def dequeue(conn: AsyncConnection, message_ids: Sequence[int]) -> None:
    if message_ids:
        await _DEQUEUE.run(conn, list(message_ids))


async def release(conn: AsyncConnection, message_ids: Sequence[int], owner: str) -> None:
    """Give back claimed entries never handed to a carrier (a dispatcher stopping): due at
    once for the next claim, and the claim not counted as an attempt."""
    if message_ids:
        await _RELEASE.run(conn, list(message_ids), owner)


async def retry_later(conn: AsyncConnection, delays_ms: dict[int, int], now_ms: int) -> None:
    """Give claimed entries back to the queue, due again after their backoff."""
    if not delays_ms:
        return
    await conn.execute(
        update(queue)
        .where(queue.c.message_id == bindparam("mid"))
        .values(due_ms=bindparam("due"), lease_until_ms=0, lease_owner=None),
        [{"mid": mid, "due": now_ms + delay} for mid, delay in delays_ms.items()],
    )


async def finish(
    conn: AsyncConnection,
    message_ids: Sequence[int],
    status: MessageStatus,
    now: datetime,
    reason: str | None,
    *,
    from_status: Sequence[MessageStatus],
) -> list[int]:
    """Move messages to a final state (only from ``from_status``), refunding when due.

    Returns the ids that moved; a message already final is left as it is.
    """
    if not message_ids:
        return []
    rows = [
        Finished(*row)
        for row in await _FINISH.rows(
            conn, list(message_ids), status.value, now, reason, [s.value for s in from_status]
        )
    ]
    if status.refunded:
        for row in rows:
            if row.cost:
                await ledger.post(
                    conn,
                    row.account_id,
                    Balance(row.cost_balance),
                    row.cost,
                    EntryKind.REFUND,
                    f"message:{row.id}",
                )
    await webhooks.announce_final(conn, rows, status, reason, now)
    return [row.id for row in rows]
