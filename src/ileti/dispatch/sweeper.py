"""Housekeeping on a timer: expire what outlived its validity, retry receipts that came early,
forget idempotent answers past their time, panel sessions gone idle and failed logins no longer
counted, empty the texts whose retention is over (KVKK), and refresh the gauges."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

import structlog

from ileti.dispatch import metrics
from ileti.domain.clock import SYSTEM_CLOCK, Clock, to_ms
from ileti.domain.lifecycle import NO_RECEIPT, OVERDUE
from ileti.store import delivery, idempotency, lifecycle, panel_sessions, privacy, queue
from ileti.store.db import Database
from ileti.store.lifecycle import Walked

log = structlog.get_logger("ileti.dispatch")

# A receipt can only match a message that is still within its validity (at most 3 days).
RECEIPT_WAIT_MS = 3 * 24 * 3600 * 1000
BATCH = 1000
# How far behind the clock the walk to overdue messages stays: longer than any transaction
# that records a message as sent, with the time read before it began, takes to commit.
SETTLE = timedelta(seconds=60)
# Failed logins older than this no longer slow anyone down (``access.logins``).
LOGIN_FAILURE_MS = 3600 * 1000
# Texts past their retention are found by walking the messages by id, a slice at a time, each
# slice's purge its own short write; a sweep walks this many slices at most and goes on from
# there next time. Once the walk reaches messages still within the retention it starts again
# from the first, so a message that became final late (one scheduled far ahead) is found too:
# at ten million messages, within a few hours.
PURGE_SLICE = 1000
PURGE_SLICES = 10


class Sweeper:
    def __init__(
        self,
        db: Database,
        interval: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
        panel_idle_ms: int = 30 * 60 * 1000,
        retention_days: int = 0,
    ) -> None:
        self.db = db
        self.interval = interval
        self.clock = clock
        self.panel_idle_ms = panel_idle_ms
        # 0: texts are kept.
        self.retention_days = retention_days
        # Where the walk for texts past their retention goes on (after this id).
        self._purged_after = 0
        # The earliest hour whose counts may hold messages on their way ('': the first).
        self._counted_from = ""

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
        purged = await self.purge_texts(now)
        matched = late.applied + late.duplicate
        if expired or matched or dropped or purged:
            log.info(
                "swept",
                expired=expired,
                late_receipts=matched,
                unmatched_dropped=dropped,
                texts_purged=purged,
            )
        if dropped:
            metrics.RECEIPTS.labels("unmatched").inc(dropped)
        await self.refresh_gauges()

    async def expire_sent(self, now: datetime) -> int:
        """``sent`` messages past their validity with no final receipt: expired, refunded.
        The walk goes over every message once, in the order its validity ends, from where it
        stopped; it stays ``SETTLE`` behind the clock, so that a message recorded as sent
        before its validity ended has been committed when the walk reaches it (one recorded
        after is expired by its dispatcher)."""
        total = 0
        until = now - SETTLE
        while True:
            async with self.db.write() as conn:
                after = await lifecycle.walked(conn, OVERDUE.name)
                read = await lifecycle.expiring(conn, after, until, BATCH)
                sent = [row.id for row in read if row.status == OVERDUE.source]
                moved = await lifecycle.finish(conn, sent, OVERDUE, now, NO_RECEIPT)
                if read:
                    last = read[-1]
                    await lifecycle.keep_walked(
                        conn, OVERDUE.name, Walked(last.expires_at, last.id)
                    )
            total += len(moved)
            metrics.count_finished(Counter({OVERDUE.target: len(moved)}))
            if len(read) < BATCH:
                return total

    async def purge_texts(self, now: datetime) -> int:
        """Empties the texts of final messages created more than the retention ago; how many.
        The walk reads in a snapshot of its own and writes only where a slice has texts due."""
        if self.retention_days <= 0:
            return 0
        created_before = now - timedelta(days=self.retention_days)
        purged = 0
        for _ in range(PURGE_SLICES):
            async with self.db.read() as conn:
                walked = await privacy.walk(conn, self._purged_after, created_before, PURGE_SLICE)
            if walked.due:
                async with self.db.write() as conn:
                    purged += await privacy.purge(conn, walked.due, now)
            if walked.after is None:
                self._purged_after = 0
                break
            self._purged_after = walked.after
        return purged

    async def refresh_gauges(self) -> None:
        """Messages on their way and the queue's depth: read from the counts kept per hour,
        from the earliest hour that still holds some, not from every message ever sent."""
        settled = self.clock.now() - timedelta(hours=1)
        async with self.db.read() as conn:
            counted = await lifecycle.on_their_way(conn, self._counted_from, settled)
            depth = await queue.depth(conn)
        self._counted_from = counted.since_hour
        for state, count in counted.counts.items():
            metrics.MESSAGES.labels(state.value).set(count)
        metrics.QUEUE_DEPTH.set(depth)
