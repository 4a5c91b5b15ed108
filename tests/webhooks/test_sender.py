"""The sender against real receivers on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from standardwebhooks import Webhook

from ileti.store import webhooks as outbox
from ileti.store.db import Database
from ileti.store.models import WebhookAttempt, utcnow
from ileti.webhooks.events import EventType, make_event
from ileti.webhooks.sender import WebhookSender
from support.receiver import Received, Receiver

from .conftest import QUICK, Customer, eventually, new_customer, sending


async def _events(customer: Customer, count: int) -> list[str]:
    made = [
        make_event(
            customer.key_id, EventType.SMS_DELIVERED, {"sms_id": i, "status": "delivered"}, utcnow()
        )
        for i in range(count)
    ]
    async with customer.db.write() as conn:
        await outbox.add(conn, made)
    return [e.id for e in made]


async def _statuses(customer: Customer) -> Counter[str]:
    return Counter(str(row["status"]) for row in await customer.events())


async def test_every_event_arrives_signed(customer: Customer) -> None:
    with Receiver() as receiver:
        config = await customer.hook(receiver.url)
        ids = await _events(customer, 20)
        async with sending(customer.db):
            await eventually(lambda: len(receiver.requests()) >= 20)
            await eventually(lambda: _delivered(customer, 20))
    seen = receiver.requests()
    assert sorted(r.headers["webhook-id"] for r in seen) == sorted(ids)
    for request in seen:
        body = Webhook(config.secret).verify(request.body, request.headers)
        assert body["event_id"] == request.headers["webhook-id"]
        expected = hmac.new(config.secret.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-turkeysms-signature"] == f"sha256={expected}"
        assert abs(int(request.headers["x-turkeysms-timestamp"]) - time.time()) < 30
        assert request.headers["content-type"] == "application/json"


async def _delivered(customer: Customer, count: int) -> bool:
    return (await _statuses(customer))["delivered"] == count


async def test_a_receiver_failing_for_a_while_gets_every_event_once(customer: Customer) -> None:
    lock = threading.Lock()
    calls = [0]

    def flaky(_: Received) -> tuple[int, float]:
        with lock:
            calls[0] += 1
            return (500 if calls[0] <= 40 else 200), 0.0

    with Receiver(flaky) as receiver:
        await customer.hook(receiver.url, attempts=8)
        ids = await _events(customer, 30)
        async with sending(customer.db):
            await eventually(lambda: _delivered(customer, 30))
    ok = Counter(r.headers["webhook-id"] for r in receiver.requests() if r.status == 200)
    assert set(ok) == set(ids)
    assert max(ok.values()) == 1
    async with customer.db.read() as conn:
        attempts = (await conn.execute(select(WebhookAttempt.__table__))).all()
    assert len(attempts) == len(receiver.requests())
    failed = [a for a in attempts if a.status_code == 500]
    assert len(failed) == 40 and all(a.error.startswith("HTTP 500") for a in failed)
    assert all(a.latency_ms >= 0 for a in attempts)


class _LateWrites:
    """The customer's database, whose writes, once armed, land and then keep their caller
    waiting: a sender stopped meanwhile is told "cancelled" about a write that did happen."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.armed = False
        self.landed = asyncio.Event()
        self.release = asyncio.Event()

    def read(self, **options: bool) -> AbstractAsyncContextManager[AsyncConnection]:
        return self.db.read(**options)

    @asynccontextmanager
    async def write(self, *args: bool, **options: bool) -> AsyncIterator[AsyncConnection]:
        async with self.db.write(*args, **options) as conn:
            yield conn
        if self.armed:
            self.landed.set()
            await self.release.wait()


async def test_a_sender_stopped_while_its_outcomes_commit_records_each_attempt_once(
    customer: Customer,
) -> None:
    late = _LateWrites(customer.db)
    with Receiver() as receiver:
        await customer.hook(receiver.url)
        await _events(customer, 5)
        # Outcomes wait a while before they are written, and no heartbeat writes meanwhile.
        sender = WebhookSender(late, replace(QUICK, record_seconds=0.5, lease_seconds=60.0))  # type: ignore[arg-type]
        running = asyncio.ensure_future(sender.run())
        await eventually(lambda: len(receiver.requests()) == 5)
        late.armed = True
        await asyncio.wait_for(late.landed.wait(), 5)
        running.cancel()
        await asyncio.sleep(0.05)
        late.release.set()
        await asyncio.gather(running, return_exceptions=True)
    assert await _delivered(customer, 5)
    async with customer.db.read() as conn:
        attempts = (await conn.execute(select(WebhookAttempt.__table__))).all()
    assert sorted(a.event_id for a in attempts) == sorted(
        r.headers["webhook-id"] for r in receiver.requests()
    )


async def test_last_attempt_makes_the_event_dead_and_replay_sends_it_again(
    customer: Customer,
) -> None:
    answer = [503]
    with Receiver(lambda _: (answer[0], 0.0)) as receiver:
        await customer.hook(receiver.url, attempts=3)
        [event_id] = await _events(customer, 1)
        async with sending(customer.db):
            await eventually(lambda: _has(customer, "dead"))
            assert len(receiver.requests()) == 3
            async with customer.db.read() as conn:
                [dead] = await outbox.failures(conn, customer.key_id)
            assert (dead.id, dead.attempts, dead.last_status_code) == (event_id, 3, 503)
            answer[0] = 204
            async with customer.db.write() as conn:
                assert (
                    await outbox.replay(conn, int(time.time() * 1000), key_id=customer.key_id) == 1
                )
            await eventually(lambda: _delivered(customer, 1))
    assert [r.status for r in receiver.requests()] == [503, 503, 503, 204]
    assert {r.headers["webhook-id"] for r in receiver.requests()} == {event_id}


async def _has(customer: Customer, status: str) -> bool:
    return (await _statuses(customer))[status] > 0


async def test_a_hanging_receiver_does_not_hold_back_another(customer: Customer, db) -> None:
    other = await new_customer(db, "other")
    with Receiver(lambda _: (200, 60.0)) as hanging, Receiver() as healthy:
        await customer.hook(hanging.url)
        await other.hook(healthy.url)
        await _events(customer, 300)
        await _events(other, 200)
        started = time.monotonic()
        async with sending(db, replace(QUICK, timeout=5.0)):
            await eventually(lambda: _delivered(other, 200), within=4.0)
            took = time.monotonic() - started
            # The hanging receiver has at most its per-receiver share in flight.
            assert len(hanging.requests()) <= QUICK.per_receiver
    assert took < 4.0


async def test_redirects_are_not_followed_and_bodies_are_cut(customer: Customer) -> None:
    def moved(request: Received) -> tuple[int, float]:
        return (302 if request.path == "/hook" else 200), 0.0

    with Receiver(moved) as receiver:
        await customer.hook(receiver.url, attempts=1)
        await _events(customer, 1)
        async with sending(customer.db):
            await eventually(lambda: _has(customer, "dead"))
    assert [r.path for r in receiver.requests()] == ["/hook"]
    [row] = await customer.events()
    assert row["last_status_code"] == 302


async def test_private_receivers_are_refused_when_not_allowed(customer: Customer) -> None:
    with Receiver() as receiver:
        await customer.hook(receiver.url, attempts=1)
        await _events(customer, 1)
        async with sending(customer.db, replace(QUICK, allow_private=False)):
            await eventually(lambda: _has(customer, "dead"))
    assert receiver.requests() == []
    [row] = await customer.events()
    assert row["last_error"].startswith("refused")


async def test_a_switched_off_webhook_holds_nothing_back(customer: Customer) -> None:
    with Receiver() as receiver:
        await customer.hook(receiver.url, enabled=False)
        await _events(customer, 2)
        async with sending(customer.db):
            await eventually(lambda: _statuses(customer), within=1)
            await eventually(lambda: _dead(customer, 2))
    assert receiver.requests() == []


async def _dead(customer: Customer, count: int) -> bool:
    return (await _statuses(customer))["dead"] == count


def test_body_is_json_with_the_contract_fields() -> None:
    event = make_event(1, EventType.SMS_SENT, {"sms_id": 1, "status": "sent"}, utcnow())
    body = json.loads(event.body)
    assert set(body) == {"event_id", "event_type", "timestamp", "data"}
    assert body["event_id"] == event.id
