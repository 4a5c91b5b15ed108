"""Delivers the outbox: many receivers at once, a bounded number of requests per receiver.

Events are claimed under a lease that a heartbeat keeps alive while they wait or travel, and
their outcomes are written in batches. A receiver that hangs holds only its own lanes and its
own events: a key whose events wait for a free lane is left out of claims once enough of them
wait, so the others' events keep flowing. A sender that dies leaves its events to be claimed
again when the lease runs out: each event arrives at least once, always under the same id. A
sender that stops (``stop``) waits for the answers to the requests it has sent, so that an
event its receiver took is recorded as delivered rather than sent again after a restart.

Secrets are stored sealed; the sender opens them with the installation's key to sign, and a
secret it cannot open (another key sealed it) fails the attempt, which is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from dataclasses import dataclass

import structlog

from ileti.config import Settings
from ileti.domain import signing
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.webhooks import WebhookConfig
from ileti.store import webhooks as outbox
from ileti.store.db import Database
from ileti.store.keyring import SEALED, Keyring, SecretKeyError
from ileti.webhooks.lanes import Answer, Lane, Lanes, ProtocolError
from ileti.webhooks.urls import Resolver, UnsafeUrl

log = structlog.get_logger("ileti.webhooks")

# Retry-After is honoured up to this long.
MAX_RETRY_AFTER_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class SenderSettings:
    timeout: float = 10.0
    # Requests in flight in all, and to one receiver URL. A receiver that takes 3 s over one
    # answer in twenty needs about 75 requests in flight to take 500 events a second.
    concurrency: int = 2048
    per_receiver: int = 128
    # A key with this many events claimed and waiting for a lane of its receiver is left out
    # of claims, so a receiver that hangs ties up its lanes, this many and one batch at most.
    per_key_backlog: int = 64
    # Claimed and not yet recorded, in all.
    max_held: int = 4096
    batch: int = 256
    lease_seconds: float = 60.0
    # Events written by another process wake nobody: they wait for this poll at most.
    idle_poll_seconds: float = 0.1
    # Outcomes are written together, at most this long after they are known.
    record_seconds: float = 0.05
    max_response_bytes: int = 4096
    allow_private: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> SenderSettings:
        return cls(
            timeout=settings.webhook_timeout,
            concurrency=settings.webhook_concurrency,
            per_receiver=settings.webhook_per_receiver,
            allow_private=settings.webhook_allow_private,
        )


class WebhookSender:
    def __init__(
        self,
        db: Database,
        settings: SenderSettings | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        keyring: Keyring | None = None,
    ) -> None:
        self.db = db
        self.settings = settings or SenderSettings()
        self.clock = clock
        # None: only secrets stored before sealing can be used.
        self.keyring = keyring
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.resolver = Resolver(allow_private=self.settings.allow_private)
        # Set by new work, by a key that has room again, and by recorded outcomes when claims
        # wait for room.
        self._wake = asyncio.Event()
        self._global = asyncio.Semaphore(self.settings.concurrency)
        self._lanes = Lanes(per_receiver=self.settings.per_receiver)
        # Claimed events not yet recorded.
        self._held: set[str] = set()
        # Per key, claimed events not yet on a lane.
        self._waiting: dict[int, int] = {}
        # Whether the last claim took all it had room for: more is due, no need to ask.
        self._full = False
        # Whether claims wait for outcomes to be recorded (``max_held``).
        self._no_room = False
        self._results: list[outbox.Attempt] = []
        self._results_ready = asyncio.Event()
        self._recording: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Deliveries whose request is out: a stop waits for their answers.
        self._posting: set[asyncio.Task[None]] = set()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Claim nothing more, forget the events still waiting for a lane (given back when
        ``run`` is cancelled) and return once every request already sent has its answer or has
        timed out; ``run``'s cancel then records them."""
        self._stopping = True
        for task in self._tasks - self._posting:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)

    async def run(self) -> None:
        background = [
            asyncio.ensure_future(self._record_loop()),
            asyncio.ensure_future(self._heartbeat_loop()),
        ]
        try:
            await self._claim_loop()
        finally:
            for task in [*self._tasks, *background]:
                task.cancel()
            await asyncio.gather(*self._tasks, *background, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._shutdown()
            self._lanes.close()

    async def _claim_loop(self) -> None:
        while True:
            # Cleared before the claim, so that a wake during it is not lost.
            self._wake.clear()
            try:
                claimed = await self._claim()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook_claim_failed")
                claimed = 0
            if claimed:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.idle_poll_seconds):
                    await self._wake.wait()

    async def _claim(self) -> int:
        if self._stopping:
            return 0
        room = min(self.settings.batch, self.settings.max_held - len(self._held))
        self._no_room = room <= 0
        if self._no_room:
            return 0
        limit = self.settings.per_key_backlog
        busy = [k for k, n in self._waiting.items() if n >= limit]
        now_ms = self.clock.now_ms()
        if not self._full:
            async with self.db.read() as conn:
                if not await outbox.any_due(conn, now_ms, busy):
                    return 0
        async with self.db.write() as conn:
            events = await outbox.claim(
                conn,
                self.owner,
                room,
                now_ms,
                int(self.settings.lease_seconds * 1000),
                busy,
            )
            # In the claim's transaction: one fewer for each batch.
            settings = await outbox.configs(conn, {e.key_id for e in events})
        self._full = len(events) == room
        self._held.update(event.id for event in events)
        if self._stopping:
            return 0  # claimed as the stop came: given back unattempted
        # RETURNING keeps no order: the longest due go first to their lanes.
        events.sort(key=_due)
        for event in events:
            self._waiting[event.key_id] = self._waiting.get(event.key_id, 0) + 1
            task = asyncio.ensure_future(self._deliver(event, settings.get(event.key_id)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(events)

    def _on_lane(self, key_id: int) -> None:
        """One event of ``key_id`` no longer waits: it has a lane, or needs none."""
        left = self._waiting[key_id] - 1
        if left:
            self._waiting[key_id] = left
        else:
            del self._waiting[key_id]
        if left == self.settings.per_key_backlog - 1:
            # The key was left out of claims: its next events can come.
            self._wake.set()

    async def _deliver(self, event: outbox.ClaimedEvent, config: WebhookConfig | None) -> None:
        attempt = event.attempts + 1
        if config is None or not config.enabled:
            self._on_lane(event.key_id)
            self._result(
                event, attempt, self.clock.now_ms(), None, 0, "webhook is off for this key", None
            )
            return
        # Only a stop cancels the wait for a lane, and a stop forgets what waits.
        async with self._lanes.lane(config.url) as lane, self._global:
            self._on_lane(event.key_id)
            started_ms = self.clock.now_ms()
            started = time.perf_counter()
            posting = asyncio.current_task()
            assert posting is not None
            self._posting.add(posting)
            try:
                code, error, retry_after = await self._post(lane, event, config)
            finally:
                self._posting.discard(posting)
            latency_ms = int((time.perf_counter() - started) * 1000)
        delivered = code is not None and 200 <= code < 300
        self._result(
            event,
            attempt,
            started_ms,
            code,
            latency_ms,
            None if delivered else error,
            None if delivered else self._next_due(config, attempt, retry_after),
        )

    async def _post(
        self, lane: Lane, event: outbox.ClaimedEvent, config: WebhookConfig
    ) -> tuple[int | None, str | None, float | None]:
        """The receiver's status code (None: no answer), an error text, its Retry-After."""
        body = event.body.encode()
        now_ms = self.clock.now_ms()
        try:
            secrets_ = [self._open(s) for s in config.signing_secrets(now_ms)]
        except SecretKeyError as exc:
            return None, str(exc)[:200], None
        headers = signing.headers(secrets_, event.id, now_ms // 1000, body)
        headers["Content-Type"] = "application/json"
        headers["User-Agent"] = "ileti-webhooks"
        try:
            target = await self.resolver.target(config.url)
            async with asyncio.timeout(self.settings.timeout):
                answer = await lane.post(
                    target.url,
                    headers,
                    body,
                    host_header=target.host_header,
                    sni_hostname=target.sni_hostname,
                    max_body=self.settings.max_response_bytes,
                )
        except UnsafeUrl as exc:
            return None, f"refused: {exc}"[:200], None
        except TimeoutError:
            return None, f"no answer within {self.settings.timeout:g} s", None
        except (OSError, EOFError, ProtocolError, asyncio.LimitOverrunError) as exc:
            return None, f"{type(exc).__name__}: {exc}"[:200], None
        code = answer.status
        if 200 <= code < 300:
            return code, None, None
        text = answer.body.decode(errors="replace").strip()
        error = f"HTTP {code}" + (f": {text}" if text else "")
        return code, error[:200], _retry_after(answer)

    def _open(self, stored: str) -> str:
        if self.keyring is not None:
            return self.keyring.open(stored)
        if stored.startswith(SEALED):
            raise SecretKeyError("this sender has no secret key to open the webhook's secret")
        return stored

    def _result(
        self,
        event: outbox.ClaimedEvent,
        attempt: int,
        at_ms: int,
        code: int | None,
        latency_ms: int,
        error: str | None,
        next_due_ms: int | None,
    ) -> None:
        delivered = code is not None and 200 <= code < 300
        self._results.append(
            outbox.Attempt(
                event.id, attempt, at_ms, code, latency_ms, error, delivered, next_due_ms
            )
        )
        self._results_ready.set()

    async def _record_loop(self) -> None:
        while True:
            await self._results_ready.wait()
            await asyncio.sleep(self.settings.record_seconds)
            self._results_ready.clear()
            try:
                await self._record()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Kept for the next round; the heartbeat keeps their leases meanwhile.
                log.exception("webhook_record_failed")
                self._results_ready.set()
                await asyncio.sleep(1.0)

    async def _record(self) -> None:
        results, self._results = self._results, []
        if not results:
            return
        # Shielded: a sender stopped while the commit is under way would otherwise see a
        # cancel for a write that did land, and its shutdown would write it a second time.
        self._recording = asyncio.ensure_future(self._write(results))
        await asyncio.shield(self._recording)

    async def _write(self, results: list[outbox.Attempt]) -> None:
        try:
            async with self.db.write() as conn:
                await outbox.record(conn, results)
        except BaseException:
            self._results = results + self._results
            raise
        self._held.difference_update(r.event_id for r in results)
        if self._no_room:
            self._wake.set()

    async def _heartbeat_loop(self) -> None:
        interval = self.settings.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            self._lanes.close_idle(older_than=60.0)
            held = list(self._held)
            if not held:
                continue
            try:
                async with self.db.write() as conn:
                    await outbox.extend_lease(
                        conn,
                        self.owner,
                        held,
                        self.clock.now_ms() + int(self.settings.lease_seconds * 1000),
                    )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook_heartbeat_failed")

    def _next_due(
        self, config: WebhookConfig, attempt: int, retry_after: float | None
    ) -> int | None:
        """When the next attempt is due; None when none is left."""
        if attempt >= config.attempts:
            return None
        delay = config.delay_after(attempt)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
        return self.clock.now_ms() + int(delay * 1000)

    async def _shutdown(self) -> None:
        """Write what is known and give back what was not attempted."""
        if self._recording is not None:
            # A write the stop interrupted goes on; one that failed left its results to retry.
            with contextlib.suppress(Exception):
                await self._recording
        await self._record()
        if self._held:
            async with self.db.write() as conn:
                await outbox.release(conn, list(self._held), self.owner)
            self._held.clear()
            self._waiting.clear()


def _due(event: outbox.ClaimedEvent) -> tuple[int, str]:
    return event.due_ms, event.id


def _retry_after(answer: Answer) -> float | None:
    value = answer.headers.get("retry-after")
    if value is None or answer.status not in (429, 503):
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
