"""The dispatch queue: accepted messages wait here until a dispatcher claims them.

Claims take a lease (``store.leases``): a worker that dies leaves its claims to lapse, and
another worker takes them again. A message whose parts are recorded is never submitted again,
even when its queue entry is claimed a second time. What a claim becomes is recorded by
``store.lifecycle``, which takes the entry off the queue in the same transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain import priority
from ileti.store.leases import LeaseQueue
from ileti.store.models import QueueEntry, table_of
from ileti.store.sql import Raw, moment

DISPATCH_QUEUE = LeaseQueue(
    table_of(QueueEntry),
    "message_id",
    waiting="priority <= {0}",
    order="priority, due_ms",
    returning="message_id, attempts, priority",
    counts_claims=True,
)
_CLAIMED_MESSAGES = Raw(
    "SELECT id, title, sentto, text, lang, segments, status, expires_at FROM messages"
    " WHERE id = ANY($1)"
)
_SUBMITTED = Raw("SELECT DISTINCT message_id FROM message_parts WHERE message_id = ANY($1)")
_DEQUEUE = Raw("DELETE FROM dispatch_queue WHERE message_id = ANY($1)")
_DEPTH = Raw("SELECT count(*) AS depth FROM dispatch_queue")


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
    priority: int = priority.BULK


async def any_due(conn: AsyncConnection, now_ms: int, max_priority: int = priority.LOWEST) -> bool:
    """Whether a claim would find work at this priority or above."""
    return await DISPATCH_QUEUE.any_due(conn, now_ms, max_priority)


async def claim(
    conn: AsyncConnection,
    owner: str,
    limit: int,
    now_ms: int,
    lease_ms: int,
    max_priority: int = priority.LOWEST,
) -> list[Claimed]:
    """Lease up to ``limit`` due entries, most urgent first (OTP, then single, then bulk),
    none less urgent than ``max_priority``."""
    leased = await DISPATCH_QUEUE.claim(conn, owner, limit, now_ms, lease_ms, max_priority)
    if not leased:
        return []
    entries = {row["message_id"]: row for row in leased}
    ids = list(entries)
    found = await _CLAIMED_MESSAGES.rows(conn, ids)
    submitted = {row["message_id"] for row in await _SUBMITTED.rows(conn, ids)}
    claimed = [
        Claimed(
            id=row["id"],
            attempts=entries[row["id"]]["attempts"],
            title=row["title"],
            sentto=row["sentto"],
            text=row["text"],
            lang=row["lang"],
            segments=row["segments"],
            status=row["status"],
            expires_at=moment(row["expires_at"]),
            already_submitted=row["id"] in submitted,
            priority=entries[row["id"]]["priority"],
        )
        for row in found
    ]
    claimed.sort(key=lambda c: c.id)
    return claimed


async def dequeue(conn: AsyncConnection, message_ids: Collection[int]) -> None:
    if message_ids:
        await _DEQUEUE.run(conn, list(message_ids))


async def keep_leases(
    conn: AsyncConnection, message_ids: Collection[int], owner: str, until_ms: int
) -> None:
    """Keep ``owner``'s claims alive while their submits are out."""
    await DISPATCH_QUEUE.extend(conn, message_ids, owner, until_ms)


async def release(conn: AsyncConnection, message_ids: Collection[int], owner: str) -> None:
    """Give back claimed entries never handed to a carrier (a dispatcher stopping): due at
    once for the next claim, and the claim not counted as an attempt."""
    await DISPATCH_QUEUE.release(conn, message_ids, owner)


async def retry_later(
    conn: AsyncConnection, delays_ms: Mapping[int, int], now_ms: int, owner: str
) -> None:
    """Give claimed entries back to the queue, due again after their backoff."""
    if delays_ms:
        await DISPATCH_QUEUE.postpone(
            conn, {mid: now_ms + delay for mid, delay in delays_ms.items()}, owner
        )


async def depth(conn: AsyncConnection) -> int:
    """Messages waiting in the queue."""
    [row] = await _DEPTH.rows(conn)
    return int(row["depth"])
