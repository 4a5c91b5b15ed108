"""Housekeeping on a timer: expire what outlived its validity, retry receipts that came early,
forget idempotent answers past their time, panel sessions gone idle and failed logins no longer
counted, and refresh the gauges."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

import structlog

from ileti.dispatch import metrics
from ileti.domain.clock import SYSTEM_CLOCK, Clock, to_ms
from ileti.domain.lifecycle import OVERDUE
from ileti.store import delivery, idempotency, lifecycle, panel_sessions, queue
from ileti.store.db import Database

log = structlog.get_logger("ileti.dispatch")

# A receipt can only match a message that is still within its validity (at most 3 days).
RECEIPT_WAIT_MS = 3 * 24 * 3600 * 1000
BATCH = 1000
# Failed logins older than this no longer slow anyone down (``access.logins``).
LOGIN_FAILURE_MS = 3600 * 1000


class Sweeper:
    def __init__(
        self,
        db: Database,
        interval: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
        panel_idle_ms: int = 30 * 60 * 1000,
    ) -> None:
        self.db = db
        self.interval = interval
        self.clock = clock
        self.panel_idle_ms = panel_idle_ms

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
        now = self.clock.now()
        now_ms = to_ms(now)
        expired = await self.expire_sent(now)
        async with self.db.write() as conn:
            late = await delivery.retry_waiting(conn, now)
            dropped = await delivery.drop_waiting(conn, now_ms - RECEIPT_WAIT_MS)
            await idempotency.purge(conn, now_ms)
            await panel_sessions.forget_before(
                conn, now_ms - self.panel_idle_ms, now_ms - LOGIN_FAILURE_MS
            )
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
                ids = await lifecycle.overdue(conn, OVERDUE, now, BATCH)
                moved = await lifecycle.finish(
                    conn, ids, OVERDUE, now, "no receipt within the validity period"
                )
            total += len(moved)
            metrics.count_finished(Counter({OVERDUE.target: len(moved)}))
            if len(ids) < BATCH:
                return total

    async def refresh_gauges(self) -> None:
        """Messages on their way and the queue's depth: read by index, in time proportional
        to what is in flight, not to every message ever sent."""
        async with self.db.read() as conn:
            counts = await lifecycle.on_their_way(conn)
            depth = await queue.depth(conn)
        for state, count in counts.items():
            metrics.MESSAGES.labels(state.value).set(count)
        metrics.QUEUE_DEPTH.set(depth)
