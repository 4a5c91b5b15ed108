"""The dispatcher's queries: claim due messages under a lease, record what the carrier said.

Claims take a lease rather than a lock held across the network: a worker that dies leaves its
claims to expire, and another worker takes them again. A message whose parts are recorded is
never submitted again, even when its queue entry is claimed a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.lifecycle import MessageStatus
from ileti.store import ledger, webhooks
from ileti.store.ledger import Balance, EntryKind
from ileti.store.models import Message, MessagePart, QueueEntry
from ileti.store.sql import among

queue = QueueEntry.__table__
messages = Message.__table__
parts = MessagePart.__table__


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


def _due(now_ms: int, max_priority: int | None) -> Select[tuple[int]]:
    due = select(queue.c.message_id).where(
        queue.c.due_ms <= now_ms, queue.c.lease_until_ms < now_ms
    )
    if max_priority is not None:
        due = due.where(queue.c.priority <= max_priority)
    return due


async def any_due(conn: AsyncConnection, now_ms: int, max_priority: int | None = None) -> bool:
    """Whether a claim would find work (at this priority or above): a read, so that a loop
    with nothing to do takes no write lock."""
    return (await conn.execute(_due(now_ms, max_priority).limit(1))).first() is not None


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
    due = _due(now_ms, max_priority).order_by(queue.c.priority, queue.c.due_ms).limit(limit)
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    leased = await conn.execute(
        update(queue)
        .where(queue.c.message_id.in_(due.scalar_subquery()))
        .values(
            lease_until_ms=now_ms + lease_ms,
            lease_owner=owner,
            attempts=queue.c.attempts + 1,
        )
        .returning(queue.c.message_id, queue.c.attempts, queue.c.priority)
    )
    leased_rows = leased.all()
    attempts = {row[0]: row[1] for row in leased_rows}
    priorities = {row[0]: row[2] for row in leased_rows}
    if not attempts:
        return []
    rows = await conn.execute(
        select(
            messages.c.id,
            messages.c.title,
            messages.c.sentto,
            messages.c.text,
            messages.c.lang,
            messages.c.segments,
            messages.c.status,
            messages.c.expires_at,
        ).where(among(conn, messages.c.id, attempts))
    )
    found = {row.id: row for row in rows}
    submitted = {
        row[0]
        for row in await conn.execute(
            select(parts.c.message_id).distinct().where(among(conn, parts.c.message_id, attempts))
        )
    }
    claimed = [
        Claimed(
            id=message_id,
            attempts=attempts[message_id],
            title=row.title,
            sentto=row.sentto,
            text=row.text,
            lang=row.lang,
            segments=row.segments,
            status=row.status,
            expires_at=row.expires_at,
            already_submitted=message_id in submitted,
            priority=priorities[message_id],
        )
        for message_id, row in found.items()
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
    await conn.execute(
        insert(parts),
        [
            {
                "message_id": message_id,
                "part": p.part,
                "carrier": carrier,
                "operator_id": p.operator_id or "",
                "status": (
                    MessageStatus.SENT.value if p.operator_id else MessageStatus.FAILED.value
                ),
                "done_at": None if p.operator_id else now,
                "error": None if p.operator_id else "refused by the operator",
            }
            for message_id, carrier, message_parts in sent
            for p in message_parts
        ],
    )
    await conn.execute(
        update(messages)
        .where(
            messages.c.id == bindparam("message_id"),
            messages.c.status == MessageStatus.QUEUED.value,
        )
        .values(status=MessageStatus.SENT.value, sent_at=now, carrier=bindparam("carrier")),
        [{"message_id": message_id, "carrier": carrier} for message_id, carrier, _ in sent],
    )
    await dequeue(conn, [message_id for message_id, _, _ in sent])


async def dequeue(conn: AsyncConnection, message_ids: Sequence[int]) -> None:
    if message_ids:
        await conn.execute(delete(queue).where(among(conn, queue.c.message_id, message_ids)))


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
    moved = await conn.execute(
        update(messages)
        .where(
            among(conn, messages.c.id, message_ids),
            messages.c.status.in_([s.value for s in from_status]),
        )
        .values(status=status.value, done_at=now, error_reason=reason)
        .returning(
            messages.c.id,
            messages.c.account_id,
            messages.c.cost,
            messages.c.cost_balance,
            messages.c.key_id,
            messages.c.sentto,
            messages.c.segments,
            messages.c.group_id,
        )
    )
    rows = moved.all()
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
