"""The sender against real receivers on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection
from standardwebhooks import Webhook

from ileti.domain.clock import utcnow
from ileti.domain.signing import new_secret
from ileti.domain.webhooks import DEFAULT_GRACE_SECONDS, EventType, make_event
from ileti.store import webhooks as outbox
from ileti.store.db import Database
from ileti.store.models import WebhookAttempt
from ileti.webhooks.sender import MAX_RETRY_AFTER_SECONDS, WebhookSender
from support.clock import ManualClock
from support.receiver import Received, Receiver

from .conftest import QUICK, Customer, eventually, new_customer, sending


async def _events(customer: Customer, count: int, at: datetime | None = None) -> list[str]:
    made = [
        make_event(
            customer.key_id,
            EventType.SMS_DELIVERED,
            {"sms_id": i, "status": "delivered"},
            at or utcnow(),
        )
        for i in range(count)
    ]
    async with customer.db.write() as conn:
        await outbox.add(conn, made)
    return [e.id for e in made]


async def _statuses(customer: Customer) -> Counter[str]:
    return Counter(str(row["status"]) for row in await customer.events())


async def _ids(customer: Customer) -> set[str]:
    return {str(row["id"]) for row in await customer.events()}


async def _attempts(db: Database) -> list[Row]:
    """Every attempt recorded, as the ``webhook_attempts`` table holds them."""
    async with db.read() as conn:
        return list((await conn.execute(select(WebhookAttempt.__table__))).all())


async def test_every_event_arrives_signed(customer: Customer) -> None:
    with Receiver() as receiver:
        config = await customer.hook(receiver.url)
        ids = await _events(customer, 20)
        async with sending(customer.db) as sender:
            await eventually(lambda: len(receiver.requests()) >= 20)
            await eventually(lambda: _delivered(customer, 20))
    seen = receiver.requests()
    assert sorted(r.headers["webhook-id"] for r in seen) == sorted(ids)
    for request in seen:
        body = Webhook(config.secret).verify(request.body, request.headers)
        assert body["event_id"] == request.headers["webhook-id"]
        expected = hmac.new(config.secret.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-turkeysms-signature"] == f"sha256={expected}"
        # Signed at the sender's time: the receiver checks it against its own clock.
        assert int(request.headers["x-turkeysms-timestamp"]) == sender.clock.now_ms() // 1000
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
        async with sending(customer.db) as sender:
            await eventually(lambda: _delivered(customer, 30), retrying=sender)
    ok = Counter(r.headers["webhook-id"] for r in receiver.requests() if r.status == 200)
    assert set(ok) == set(ids)
    assert max(ok.values()) == 1
    attempts = await _attempts(customer.db)
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
        # The stop reaches the sender while its write still waits: its outcome loop has ended.
        await eventually(lambda: not _running(WebhookSender._record_loop))
        late.release.set()
        await asyncio.gather(running, return_exceptions=True)
    assert await _delivered(customer, 5)
    attempts = await _attempts(customer.db)
    assert sorted(a.event_id for a in attempts) == sorted(
        r.headers["webhook-id"] for r in receiver.requests()
    )


async def test_a_stopping_sender_records_the_answers_to_what_it_sent_and_gives_back_the_rest(
    customer: Customer,
) -> None:
    # Two lanes to a receiver that takes a second over each answer: two requests are out when
    # the stop comes, three events wait for a lane.
    with Receiver(lambda _: (200, 1.0)) as receiver:
        await customer.hook(receiver.url)
        ids = await _events(customer, 5)
        sender = WebhookSender(customer.db, replace(QUICK, per_receiver=2), clock=ManualClock())
        running = asyncio.ensure_future(sender.run())
        await eventually(lambda: len(receiver.requests()) == 2)
        await sender.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        sent = {r.headers["webhook-id"] for r in receiver.requests()}
        assert len(sent) == 2
        # The receiver took those two: they are delivered, not left to be sent again.
        events = {str(row["id"]): row for row in await customer.events()}
        assert {i for i, row in events.items() if row["status"] == "delivered"} == sent
        # The others were never attempted: due at once for the next sender, no attempt spent.
        for event_id in set(ids) - sent:
            assert events[event_id]["status"] == "pending"
            assert events[event_id]["attempts"] == 0
            assert events[event_id]["lease_owner"] is None
        assert len(await _attempts(customer.db)) == 2
        async with sending(customer.db):
            await eventually(lambda: _delivered(customer, 5))
    assert Counter(r.headers["webhook-id"] for r in receiver.requests()) == dict.fromkeys(ids, 1)


def _running(method: Callable[..., object]) -> bool:
    """Whether a task of this loop runs ``method``."""
    code = getattr(method, "__code__", None)
    return any(getattr(task.get_coro(), "cr_code", None) is code for task in asyncio.all_tasks())


async def test_last_attempt_makes_the_event_dead_and_replay_sends_it_again(
    customer: Customer,
) -> None:
    answer = [503]
    with Receiver(lambda _: (answer[0], 0.0)) as receiver:
        await customer.hook(receiver.url, attempts=3)
        [event_id] = await _events(customer, 1)
        async with sending(customer.db) as sender:
            await eventually(lambda: _has(customer, "dead"), retrying=sender)
            assert len(receiver.requests()) == 3
            async with customer.db.read() as conn:
                [dead] = await outbox.failures(conn, customer.key_id)
            assert (dead.id, dead.attempts, dead.last_status_code) == (event_id, 3, 503)
            answer[0] = 204
            async with customer.db.write() as conn:
                replayed = await outbox.replay(conn, sender.clock.now_ms(), key_id=customer.key_id)
            assert replayed == 1
            sender.wake()
            await eventually(lambda: _delivered(customer, 1))
    assert [r.status for r in receiver.requests()] == [503, 503, 503, 204]
    assert {r.headers["webhook-id"] for r in receiver.requests()} == {event_id}


async def _has(customer: Customer, status: str) -> bool:
    return (await _statuses(customer))[status] > 0


@asynccontextmanager
async def _answering(*answers: bytes) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A receiver that answers its n-th request with the n-th of ``answers`` (the last one
    from then on), written out whole: its URL and the requests it got."""
    requests: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                requests.append(head + await reader.readexactly(length))
                writer.write(answers[min(len(requests), len(answers)) - 1])
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook", requests
    finally:
        server.close()


async def _attempted(db: Database, count: int) -> bool:
    return len(await _attempts(db)) == count


async def test_a_retry_waits_for_its_backoff_or_as_long_as_the_receiver_asks(
    customer: Customer,
) -> None:
    busy = b"HTTP/1.1 503 Busy\r\nRetry-After: 864000\r\nContent-Length: 0\r\n\r\n"
    slow_down = b"HTTP/1.1 429 Slow Down\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"
    ok = b"HTTP/1.1 204 No Content\r\n\r\n"
    async with _answering(busy, slow_down, ok) as (url, requests):
        await customer.hook(url)
        await _events(customer, 1)
        async with sending(customer.db) as sender:
            clock = sender.clock
            assert isinstance(clock, ManualClock)
            await eventually(lambda: _attempted(customer.db, 1))
            [event] = await customer.events()
            # Ten days asked for, a day given: Retry-After is honoured up to a day.
            assert event["due_ms"] == clock.now_ms() + MAX_RETRY_AFTER_SECONDS * 1000
            clock.advance(MAX_RETRY_AFTER_SECONDS)
            sender.wake()
            await eventually(lambda: _attempted(customer.db, 2))
            [event] = await customer.events()
            # A second asked for, but the schedule's second delay (300 s, give or take a tenth)
            # is longer.
            assert 270_000 <= event["due_ms"] - clock.now_ms() <= 330_000
            await eventually(lambda: _delivered(customer, 1), retrying=sender)
    assert len(requests) == 3
    assert [a.status_code for a in sorted(await _attempts(customer.db), key=_order)] == [
        503,
        429,
        204,
    ]


def _order(attempt: Row) -> int:
    return attempt.attempt


async def test_a_rotated_secret_signs_beside_the_new_one_until_its_grace_ends(
    customer: Customer,
) -> None:
    with Receiver() as receiver:
        old = await customer.hook(receiver.url)
        async with sending(customer.db) as sender:
            clock = sender.clock
            assert isinstance(clock, ManualClock)
            new = old.rotated(new_secret(), clock.now_ms(), DEFAULT_GRACE_SECONDS)
            async with customer.db.write() as conn:
                await outbox.save_config(conn, customer.key_id, new)
            await _events(customer, 1, at=clock.now())
            sender.wake()
            await eventually(lambda: _delivered(customer, 1))
            clock.advance(DEFAULT_GRACE_SECONDS)
            await _events(customer, 1, at=clock.now())
            sender.wake()
            await eventually(lambda: _delivered(customer, 2))
    during, after = sorted(receiver.requests(), key=lambda r: r.headers["webhook-timestamp"])
    assert _signed_by(during) == {_ours(new.secret, during), _ours(old.secret, during)}
    assert _signed_by(after) == {_ours(new.secret, after)}
    assert len(during.headers["webhook-signature"].split()) == 2
    assert len(after.headers["webhook-signature"].split()) == 1


def _signed_by(request: Received) -> set[str]:
    return set(request.headers["x-turkeysms-signature"].split(", "))


def _ours(secret: str, request: Received) -> str:
    return "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()


async def test_a_hanging_receiver_does_not_hold_back_another(customer: Customer, db) -> None:
    other = await new_customer(db, "other")
    # The hanging receiver answers long after the sender stops waiting for it.
    with Receiver(lambda _: (200, 120.0)) as hanging, Receiver() as healthy:
        await customer.hook(hanging.url)
        await other.hook(healthy.url)
        await _events(customer, 300)
        await _events(other, 200)
        async with sending(db, replace(QUICK, timeout=60.0)):
            await eventually(lambda: _delivered(other, 200))
            # All of them went out while the hanging receiver still held its first requests:
            # not one of those has come back, not even as a timeout.
            hanging_ids = await _ids(customer)
            assert not [a for a in await _attempts(db) if a.event_id in hanging_ids]
            # The hanging receiver has at most its per-receiver share in flight.
            assert 0 < len(hanging.requests()) <= QUICK.per_receiver


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
            await eventually(lambda: _dead(customer, 2))
    assert receiver.requests() == []


async def _dead(customer: Customer, count: int) -> bool:
    return (await _statuses(customer))["dead"] == count


def test_body_is_json_with_the_contract_fields() -> None:
    event = make_event(1, EventType.SMS_SENT, {"sms_id": 1, "status": "sent"}, utcnow())
    body = json.loads(event.body)
    assert set(body) == {"event_id", "event_type", "timestamp", "data"}
    assert body["event_id"] == event.id
