"""The claim loop: lease due messages, split them, submit them by route, record the outcome.

Several loops run side by side so that one batch waiting on the network does not hold up the
next claim; each claim takes the most urgent messages first. One more loop claims only OTPs, in
small batches, as soon as one is queued, and its submits take the next free slot of a bind's
window: an OTP waits neither for a bulk batch to finish nor behind its submits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import structlog

from ileti.carriers import Carrier, OutboundMessage, PartResult, SubmitPart, receipt_keys
from ileti.dispatch import metrics
from ileti.dispatch.routing import RoutingTable
from ileti.domain import priority
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.encoding import MAX_CONCATENATED, parse_sms_lang, split
from ileti.domain.lifecycle import (
    NO_RECEIPT,
    NOT_SENT,
    OVERDUE,
    SUBMITTED,
    UNRECORDED,
    MessageStatus,
)
from ileti.store import delivery, lifecycle, otp
from ileti.store import queue as q
from ileti.store.db import Database
from ileti.store.lifecycle import SubmittedPart
from ileti.store.queue import Claimed

log = structlog.get_logger("ileti.dispatch")
RECORD_EVERY = 250
NOT_DISPATCHED = "validity ended before dispatch"
MAY_HAVE_REACHED = (
    "validity ended after a claim whose outcome was not recorded; it may have reached the operator"
)


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    batch: int = 500
    loops: int = 4
    # The OTP loop's claims: small, so that each one is out and recorded at once.
    urgent_batch: int = 50
    # Bulk submits being prepared or in flight, across the loops. Enough to keep every bind's
    # window full; without a bound, a claim starts all of its submits in one turn of the event
    # loop, and everything else the worker does (an OTP among it) waits for that turn.
    submitters: int = 256
    # A dead worker's claims go out again after this long.
    lease_seconds: float = 60.0
    idle_poll_seconds: float = 0.2
    # A bulk loop whose claim did not fill a batch waits this long before the next: under a
    # steady stream of single sends, each claim then takes what came meanwhile instead of the
    # one or two messages of the last request, and the worker writes (each a commit SQLite
    # makes durable on disk, while the API's sends wait for the lock) less often, more at a
    # time. OTPs have a loop of their own and never wait.
    linger_seconds: float = 0.02
    # The OTP loop's poll: a worker of its own hears of an OTP only this way (a read by index).
    urgent_poll_seconds: float = 0.05
    max_attempts: int = 6
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class Dispatched:
    """What became of one claimed message at its carriers."""

    message: Claimed
    carrier: str | None
    results: list[PartResult]

    @property
    def sent(self) -> bool:
        return any(r.ok for r in self.results)

    @property
    def retryable(self) -> bool:
        errors = [r.error for r in self.results]
        return not self.sent and all(e is not None and e.retryable for e in errors)

    @property
    def reason(self) -> str:
        errors = [r.error for r in self.results if r.error is not None]
        return errors[0].kind.value if errors else "no carrier"


def backoff(attempt: int, settings: DispatchSettings) -> float:
    """Exponential with full jitter: retries of many messages do not arrive together."""
    ceiling = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


class Dispatcher:
    def __init__(
        self,
        db: Database,
        carriers: Mapping[str, Carrier],
        routes: RoutingTable,
        settings: DispatchSettings | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.db = db
        self.carriers = carriers
        self.routes = routes
        self.settings = settings or DispatchSettings()
        self.clock = clock
        self.owner = f"{os.uname().nodename}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()
        self._urgent = asyncio.Event()
        self._submitters = asyncio.Semaphore(self.settings.submitters)
        # Claimed messages whose outcome is not recorded yet: their leases are kept alive.
        self._held: set[int] = set()
        # Set by stop(): claim nothing more, and hand nothing more to a carrier.
        self._stopping = False
        self._stopped = asyncio.Event()

    def wake(self, urgent: bool = False) -> None:
        """New messages are queued: claim now rather than at the next poll."""
        self._wake.set()
        if urgent:
            self._urgent.set()

    async def run(self) -> None:
        poll = self.settings.idle_poll_seconds
        linger = self.settings.linger_seconds
        loops = [
            self._loop(self._wake, self.dispatch_once, poll, linger)
            for _ in range(self.settings.loops)
        ]
        urgent = self._loop(self._urgent, self.dispatch_urgent, self.settings.urgent_poll_seconds)
        heartbeat = asyncio.ensure_future(self._keep_leases())
        try:
            await asyncio.gather(*loops, urgent)
        finally:
            heartbeat.cancel()
            self._stopped.set()

    async def _keep_leases(self) -> None:
        """Renew the leases of the claimed messages whose outcome is not recorded yet. A
        batch's submits may each wait up to the response timeout for a slot in a bind's window
        and again for the answer; a claim that lapsed meanwhile would be claimed by another
        loop and sent a second time."""
        lease_ms = int(self.settings.lease_seconds * 1000)
        while True:
            await asyncio.sleep(self.settings.lease_seconds / 3)
            held = list(self._held)
            if not held:
                continue
            try:
                async with self.db.write(urgent=True, custom_plans=True) as conn:
                    await q.keep_leases(conn, held, self.owner, self.clock.now_ms() + lease_ms)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatch_heartbeat_failed")

    async def stop(self) -> None:
        """Claim nothing more, and return once the batches out are answered and recorded;
        their messages not yet handed to a carrier are given back at once.

        A process stopping without this leaves its batches leased (the next worker waits out
        the lease), and sends again those whose operator answer it had not recorded.
        """
        self._stopping = True
        self._wake.set()
        self._urgent.set()
        await self._stopped.wait()

    async def _loop(
        self,
        wake: asyncio.Event,
        dispatch: Callable[[], Awaitable[int]],
        poll: float,
        linger: float = 0.0,
    ) -> None:
        while not self._stopping:
            try:
                handled = await dispatch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatch_failed")
                handled = 0
            if handled == 0:
                wake.clear()
                if self._stopping:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), poll)
            if linger and handled < self.settings.batch and not self._stopping:
                await asyncio.sleep(linger)

    async def dispatch_urgent(self) -> int:
        """Claim due OTPs only."""
        return await self.dispatch_once(self.settings.urgent_batch, priority.OTP)

    async def dispatch_once(
        self, batch: int | None = None, max_priority: int = priority.LOWEST
    ) -> int:
        """Claim one batch and see it through; the number of messages claimed."""
        if self._stopping:
            return 0
        now_ms = self.clock.now_ms()
        # A read first: every loop wakes when messages are queued, and most find that another
        # took them; on SQLite an empty claim would still queue for the one write lock.
        async with self.db.read() as conn:
            if not await q.any_due(conn, now_ms, max_priority):
                return 0
        # The OTP lane's writes go ahead of bulk ones on SQLite's one write lock.
        urgent = max_priority == priority.OTP
        async with self.db.write(urgent, custom_plans=True) as conn:
            claimed = await q.claim(
                conn,
                self.owner,
                batch or self.settings.batch,
                now_ms,
                int(self.settings.lease_seconds * 1000),
                max_priority,
            )
        if not claimed:
            return 0
        ids = [message.id for message in claimed]
        self._held.update(ids)
        try:
            await self._dispatch(claimed, urgent)
        finally:
            # Recorded, or failed before it was: either way no longer kept (a lease that
            # lapses is how a batch whose record failed goes out again).
            self._held.difference_update(ids)
        return len(claimed)

    async def _dispatch(self, claimed: list[Claimed], urgent: bool) -> None:
        """Send a claimed batch and record what became of each message."""
        now = self.clock.now()
        done: list[Claimed] = []
        stale: list[Claimed] = []
        to_send: list[Claimed] = []
        for message in claimed:
            if message.already_submitted or message.status != SUBMITTED.source:
                done.append(message)  # submitted before its worker died: never again
            elif message.expires_at <= now:
                stale.append(message)
            else:
                to_send.append(message)
        # Outcomes are recorded in slices as they come in: a crash between an operator's
        # answer and its record sends a message twice, so keep that window small.
        finished: list[Dispatched] = []
        unsent: list[Claimed] = []
        submit = self._submit if urgent else self._submit_bounded
        for submitted in asyncio.as_completed([submit(m) for m in to_send]):
            outcome = await submitted
            if isinstance(outcome, Claimed):
                unsent.append(outcome)
                continue
            finished.append(outcome)
            if len(finished) >= RECORD_EVERY:
                await self._record(finished, [], [], urgent)
                finished = []
        await self._record(finished, done, stale, urgent, unsent)

    async def _submit_bounded(self, message: Claimed) -> Dispatched | Claimed:
        """Its outcome; the message itself when the dispatcher stopped before its turn."""
        async with self._submitters:
            if self._stopping:
                return message
            return await self._submit(message)

    async def _submit(self, message: Claimed) -> Dispatched:
        parts = tuple(
            SubmitPart(p.short_message, p.data_coding, p.udhi)
            for p in split(
                message.text,
                parse_sms_lang(message.lang),
                max_segments=MAX_CONCATENATED,
                reference=message.id & 0xFF,
            )
        )
        outbound = OutboundMessage(
            source=message.title,
            destination=message.sentto,
            parts=parts,
            validity=max(message.expires_at - self.clock.now(), timedelta(minutes=1)),
            urgent=message.priority == priority.OTP,
        )
        last: Dispatched | None = None
        # Failover: a carrier that is down or refuses for now hands over to the next one.
        for name in self.routes.carriers_for(message.sentto):
            results = await self.carriers[name].submit(outbound)
            last = Dispatched(message, name, results)
            if not last.retryable:
                return last
        return last or Dispatched(message, None, [])

    async def _record(
        self,
        outcomes: list[Dispatched],
        done: list[Claimed],
        stale: list[Claimed],
        urgent: bool = False,
        unsent: Sequence[Claimed] = (),
    ) -> None:
        now = self.clock.now()
        now_ms = self.clock.now_ms()
        sent = [o for o in outcomes if o.sent]
        retry: dict[int, int] = {}
        failed: dict[str, list[int]] = {}
        for outcome in outcomes:
            if outcome.sent:
                continue
            if outcome.retryable and outcome.message.attempts < self.settings.max_attempts:
                retry[outcome.message.id] = int(
                    backoff(outcome.message.attempts, self.settings) * 1000
                )
            else:
                failed.setdefault(outcome.reason, []).append(outcome.message.id)
        # A stale message claimed before (its entry counts the claims) may have been handed to
        # an operator by a worker that died before recording it: never "not dispatched".
        unrecorded = [m.id for m in stale if m.attempts > 1]
        if len(unrecorded) < len(stale):
            failed.setdefault(NOT_DISPATCHED, []).extend(m.id for m in stale if m.attempts <= 1)
        recorded = [
            (
                o.message.id,
                o.carrier or "",
                [SubmittedPart(i, _normal(r.message_id)) for i, r in enumerate(o.results, start=1)],
            )
            for o in sent
        ]
        operator_ids: dict[str, list[str]] = {}
        for _, carrier, submitted in recorded:
            operator_ids.setdefault(carrier, []).extend(
                p.operator_id for p in submitted if p.operator_id
            )
        finished: Counter[MessageStatus] = Counter()
        async with self.db.write(urgent, custom_plans=True) as conn:
            await lifecycle.mark_sent(conn, recorded, now)
            for carrier, ids in operator_ids.items():
                finished += (await delivery.match_waiting(conn, carrier, ids, now)).finished
            # Parts refused outright end their message once the rest is final.
            finished += await delivery.settle(
                conn, {o.message.id for o in sent if not all(r.ok for r in o.results)}, now
            )
            # Recorded after its validity ended: the sweeper's walk may have passed it already.
            late = [o.message.id for o in sent if o.message.expires_at <= now]
            finished[OVERDUE.target] += len(
                await lifecycle.finish(conn, late, OVERDUE, now, NO_RECEIPT)
            )
            await q.retry_later(conn, retry, now_ms, self.owner)
            await q.release(conn, [m.id for m in unsent], self.owner)
            for reason, failed_ids in failed.items():
                moved = await lifecycle.finish(conn, failed_ids, NOT_SENT, now, reason)
                finished[NOT_SENT.target] += len(moved)
            moved = await lifecycle.finish(conn, unrecorded, UNRECORDED, now, MAY_HAVE_REACHED)
            finished[UNRECORDED.target] += len(moved)
            ended = [i for ids in failed.values() for i in ids] + unrecorded
            await q.dequeue(conn, [m.id for m in done] + ended)
            # An OTP's code stays in the database only until its message has left.
            leaving = {o.message.id for o in sent} | set(ended)
            await otp.redact(
                conn,
                [
                    m.id
                    for m in [*(o.message for o in outcomes), *stale]
                    if m.priority == priority.OTP and m.id in leaving
                ],
            )
        metrics.DISPATCHED.labels("sent").inc(len(sent))
        metrics.DISPATCHED.labels("retry").inc(len(retry))
        metrics.DISPATCHED.labels("failed").inc(sum(len(ids) for ids in failed.values()))
        metrics.DISPATCHED.labels("unrecorded").inc(len(unrecorded))
        metrics.count_finished(finished)


def _normal(message_id: str | None) -> str | None:
    return receipt_keys(message_id)[0] if message_id else None
