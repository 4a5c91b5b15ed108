"""Housekeeping on a timer: expire what outlived its validity, retry receipts that came early,
forget idempotent answers past their time, and refresh the gauges."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import structlog
from sqlalchemy import func, select

from ileti.dispatch import metrics
from ileti.domain.lifecycle import MessageStatus
from ileti.store import delivery, idempotency
from ileti.store import queue as q
from ileti.store.db import Database
from ileti.store.models import Message, QueueEntry

log = structlog.get_logger("ileti.dispatch")
messages = Message.__table__
queue = QueueEntry.__table__

# A receipt can only match a message that is still within its validity (at most 3 days).
RECEIPT_WAIT_MS = 3 * 24 * 3600 * 1000
BATCH = 1000
_ON_THEIR_WAY = (MessageStatus.QUEUED, MessageStatus.SENT)


class Sweeper:
    def __init__(self, db: Database, interval: float = 5.0) -> None:
        self.db = db
        self.interval = interval

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sweep_failed")
            await asyncio.sleep(self.interval)

    async def sweep(self) -> None:
        now = datetime.now(UTC)
        now_ms = int(now.timestamp() * 1000)
        expired = await self.expire_sent(now)
        async with self.db.write() as conn:
            late = await delivery.retry_waiting(conn)
            dropped = await delivery.drop_waiting(conn, now_ms - RECEIPT_WAIT_MS)
            await idempotency.purge(conn, now_ms)
        metrics.count_finished(late.finished)
        matched = late.applied + late.duplicate
        if expired or matched or dropped:
            log.info("swept", expired=expired, late_receipts=matched, unmatched_dropped=dropped)
        if dropped:
            metrics.RECEIPTS.labels("unmatched").inc(dropped)
        await self.refresh_gauges()

    async def expire_sent(self, now: datetime) -> int:
        """``sent`` messages past their validity with no final receipt: expired, refunded."""
        total = 0
        while True:
            async with self.db.write() as conn:
                ids = [
                    row[0]
                    for row in await conn.execute(
                        select(messages.c.id)
                        .where(
                            messages.c.status == MessageStatus.SENT.value,
                            messages.c.expires_at <= now,
                        )
                        .limit(BATCH)
                    )
                ]
                moved = await q.finish(
                    conn,
                    ids,
                    MessageStatus.EXPIRED,
                    now,
                    "no receipt within the validity period",
                    from_status=[MessageStatus.SENT],
                )
            total += len(moved)
            metrics.count_finished(Counter({MessageStatus.EXPIRED: len(moved)}))
            if len(ids) < BATCH:
                return total

    async def refresh_gauges(self) -> None:
        """Messages on their way and the queue's depth: read by index, in time proportional
        to what is in flight, not to every message ever sent."""
        async with self.db.read() as conn:
            counts = dict(
                (
                    await conn.execute(
                        select(messages.c.status, func.count())
                        .where(messages.c.status.in_([s.value for s in _ON_THEIR_WAY]))
                        .group_by(messages.c.status)
                    )
                ).all()
            )
            depth = (await conn.execute(select(func.count()).select_from(queue))).scalar_one()
        for state in _ON_THEIR_WAY:
            metrics.MESSAGES.labels(state.value).set(counts.get(state.value, 0))
        metrics.QUEUE_DEPTH.set(depth)
