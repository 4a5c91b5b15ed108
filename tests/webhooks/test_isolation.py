"""One receiver's trouble stays its own: a hanging receiver holds its lanes and a bounded share
of its own events, never another key's; each event of a batch gets its own outcome; two senders
never send one event at the same time."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select

from ileti.domain.clock import utcnow
from ileti.domain.webhooks import DEFAULT_BACKOFF, JITTER, EventType, make_event
from ileti.store import webhooks as outbox
from ileti.store.db import Database
from ileti.store.models import WebhookAttempt, WebhookEvent
from support.clock import ManualClock
from support.receiver import Received, Receiver

from .conftest import QUICK, Customer, eventually, new_customer, sending

events = WebhookEvent.__table__


async def _events(customer: Customer, count: int) -> list[str]:
    made = [
        make_event(customer.key_id, EventType.SMS_DELIVERED, {"sms_id": i}, utcnow())
        for i in range(count)
    ]
    async with customer.db.write() as conn:
        await outbox.add(conn, made)
    return [e.id for e in made]


async def _statuses(customer: Customer) -> Counter[str]:
    return Counter(str(row["status"]) for row in await customer.events())


async def _claimed(customer: Customer) -> int:
    """Events of the customer's key held under a sender's lease."""
    async with customer.db.read() as conn:
        return (
            await conn.execute(
                select(func.count())
                .select_from(events)
                .where(events.c.key_id == customer.key_id, events.c.lease_owner.is_not(None))
            )
        ).scalar_one()


async def test_a_hanging_receiver_holds_its_lanes_and_a_few_of_its_events(
    customer: Customer, db: Database
) -> None:
    other = await new_customer(db, "other")
    settings = replace(QUICK, timeout=60.0, per_receiver=4, per_key_backlog=8, batch=64)
    # The hanging receiver answers long after the test ends; its events are the oldest.
    with Receiver(lambda _: (200, 120.0)) as hanging, Receiver() as healthy:
        await customer.hook(hanging.url)
        await other.hook(healthy.url)
        await _events(customer, 500)
        later = await _events(other, 100)
        async with sending(db, settings):
            await eventually(lambda: _delivered(other, 100))
            # The healthy receiver got every one of its events while the other still hung:
            # not one of the hanging receiver's requests has been answered.
            assert sorted(r.headers["webhook-id"] for r in healthy.requests()) == sorted(later)
            assert (await _statuses(customer))["pending"] == 500
            assert 0 < len(hanging.requests()) <= settings.per_receiver
            # It holds its lanes' events and those waiting for them (one claim's worth over the
            # bound at most); the rest stay unclaimed and unattempted, for any sender to take.
            held = await _claimed(customer)
            bound = settings.per_receiver + settings.per_key_backlog + settings.batch
            assert settings.per_receiver < held <= bound < 500
            assert {row["attempts"] for row in await customer.events()} == {0}


async def _delivered(customer: Customer, count: int) -> bool:
    return (await _statuses(customer))["delivered"] == count


def _by_number(request: Received) -> tuple[int, float]:
    """Odd events fail on their first attempt, even ones never do."""
    body = json.loads(request.body)
    return (500 if body["data"]["sms_id"] % 2 else 204), 0.0


async def test_each_event_of_a_batch_gets_its_own_outcome(customer: Customer) -> None:
    with Receiver(_by_number) as receiver:
        await customer.hook(receiver.url)
        ids = await _events(customer, 60)
        async with sending(customer.db) as sender:
            await eventually(lambda: _attempted(customer.db, 60))
            rows = {row["id"]: row for row in await customer.events()}
            now_ms = sender.clock.now_ms()
    by_id = {r.headers["webhook-id"]: r for r in receiver.requests()}
    assert set(by_id) == set(ids)
    for event_id in ids:
        row = rows[event_id]
        assert row["attempts"] == 1
        if by_id[event_id].status == 204:
            assert (row["status"], row["last_status_code"]) == ("delivered", 204)
        else:
            assert (row["status"], row["last_status_code"]) == ("pending", 500)
            assert row["last_error"].startswith("HTTP 500")
            # Due again after the schedule's first delay, give or take its jitter.
            assert _within_jitter(row["due_ms"] - now_ms, DEFAULT_BACKOFF[0])
    assert Counter(row["status"] for row in rows.values()) == {"delivered": 30, "pending": 30}


def _within_jitter(delay_ms: int, seconds: float) -> bool:
    return seconds * (1 - JITTER) * 1000 <= delay_ms <= seconds * (1 + JITTER) * 1000


async def _attempted(db: Database, count: int) -> bool:
    async with db.read() as conn:
        done = (
            await conn.execute(select(func.count()).select_from(WebhookAttempt.__table__))
        ).scalar_one()
    return done == count


async def test_failures_are_retried_on_the_schedule_until_the_last_attempt(
    customer: Customer,
) -> None:
    with Receiver(lambda _: (500, 0.0)) as receiver:
        await customer.hook(receiver.url, attempts=4)
        ids = set(await _events(customer, 10))
        async with sending(customer.db) as sender:
            clock = sender.clock
            assert isinstance(clock, ManualClock)
            for attempt, delay in enumerate(DEFAULT_BACKOFF[:3], start=1):
                await eventually(lambda n=attempt: _attempted(customer.db, 10 * n))
                rows = await customer.events()
                assert {row["attempts"] for row in rows} == {attempt}
                assert all(_within_jitter(r["due_ms"] - clock.now_ms(), delay) for r in rows)
                # Nothing is sent again before it is due.
                assert len(receiver.requests()) == 10 * attempt
                clock.advance(delay * (1 + JITTER) + 1)
                sender.wake()
            await eventually(lambda: _dead(customer, 10))
    assert Counter(r.headers["webhook-id"] for r in receiver.requests()) == dict.fromkeys(ids, 4)


async def _dead(customer: Customer, count: int) -> bool:
    return (await _statuses(customer))["dead"] == count


@dataclass
class _Overlaps:
    """A receiver that notes every event it is handed while a copy of it is still in hand."""

    in_hand: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)
    overlapping: list[str] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                fields = dict(
                    line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:-2]
                )
                await reader.readexactly(int(fields["Content-Length"]))
                event_id = fields["webhook-id"]
                if self.in_hand[event_id]:
                    self.overlapping.append(event_id)
                self.in_hand[event_id] += 1
                self.seen[event_id] += 1
                # Slow enough that senders claiming side by side would overlap.
                await asyncio.sleep(0.005)
                self.in_hand[event_id] -= 1
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def _overlaps() -> AsyncIterator[tuple[str, _Overlaps]]:
    receiver = _Overlaps()
    server = await asyncio.start_server(receiver.serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook", receiver
    finally:
        server.close()


async def test_two_senders_never_send_one_event_at_the_same_time(customer: Customer) -> None:
    # Small claims and short leases kept alive by the heartbeat: many chances to collide.
    settings = replace(QUICK, batch=16, per_receiver=8, per_key_backlog=8, lease_seconds=1.5)
    async with _overlaps() as (url, receiver):
        await customer.hook(url)
        ids = await _events(customer, 600)
        async with sending(customer.db, settings), sending(customer.db, settings):
            await eventually(lambda: _delivered(customer, 600), within=60)
    assert receiver.overlapping == []
    assert set(receiver.seen) == set(ids)
    assert await _attempted(customer.db, sum(receiver.seen.values()))
