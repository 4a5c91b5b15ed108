"""Events are written in the transaction that changes a message's state, and only then."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ileti.domain.lifecycle import DELIVERED, OVERDUE, UNDELIVERED
from ileti.domain.webhooks import EventType, make_event
from ileti.store import lifecycle
from ileti.store import webhooks as outbox
from ileti.store.lifecycle import SubmittedPart

from .conftest import Customer, new_customer


async def _send(customer: Customer, ids: list[int]) -> None:
    async with customer.db.write() as conn:
        await lifecycle.mark_sent(
            conn,
            [(i, "smsc", [SubmittedPart(1, f"op{i}")]) for i in ids],
            datetime.now(UTC),
        )


async def test_state_changes_write_their_events(customer: Customer) -> None:
    await customer.hook("https://hooks.example.com/in")
    delivered, failed, expired = await customer.messages(3)
    await _send(customer, [delivered, failed, expired])
    now = datetime.now(UTC)
    async with customer.db.write() as conn:
        await lifecycle.finish(conn, [delivered], DELIVERED, now, None)
        await lifecycle.finish(conn, [failed], UNDELIVERED, now, "rejected")
        await lifecycle.finish(conn, [expired], OVERDUE, now, None)
        # Already final: nothing moves, so nothing is announced.
        await lifecycle.finish(conn, [delivered], UNDELIVERED, now, None)
    rows = await customer.events()
    bodies = [json.loads(row["body"]) for row in rows]
    assert [b["event_type"] for b in bodies] == ["sms.sent"] * 3 + [
        "sms.delivered",
        "sms.failed",
        "sms.failed",
    ]
    assert all(
        row["status"] == "pending" and row["id"] == b["event_id"]
        for row, b in zip(rows, bodies, strict=True)
    )
    assert len({row["id"] for row in rows}) == 6
    final = {b["data"]["sms_id"]: b for b in bodies[3:]}
    assert final[delivered]["data"] == {
        "sms_id": delivered,
        "status": "delivered",
        "sentto": "905320000000",
        "number_of_sms": 1,
    }
    assert final[failed]["data"]["error_reason"] == "rejected"
    assert final[expired]["data"]["status"] == "expired"
    assert bodies[0]["timestamp"].endswith("Z")


async def test_no_event_without_the_state_change(customer: Customer) -> None:
    await customer.hook("https://hooks.example.com/in")
    [message] = await customer.messages(1)
    with pytest.raises(RuntimeError):
        async with customer.db.write() as conn:
            await lifecycle.mark_sent(
                conn, [(message, "smsc", [SubmittedPart(1, "x")])], datetime.now(UTC)
            )
            raise RuntimeError("the transaction fails after the change")
    assert await customer.events() == []


async def test_only_keys_with_a_webhook_that_wants_the_event(customer: Customer, db) -> None:
    other = await new_customer(db, "other")
    await customer.hook("https://hooks.example.com/in", events=frozenset({EventType.SMS_DELIVERED}))
    await other.hook("https://hooks.example.com/in", enabled=False)
    bare = await new_customer(db, "bare")
    ids = await customer.messages(2) + await other.messages(2) + await bare.messages(2)
    await _send(customer, ids)
    async with db.write() as conn:
        await lifecycle.finish(conn, ids, DELIVERED, datetime.now(UTC), None)
    assert [r["event_type"] for r in await customer.events()] == ["sms.delivered"] * 2
    assert await other.events() == [] and await bare.events() == []


async def test_a_webhook_set_after_sending_hears_of_the_later_moves(customer: Customer) -> None:
    """Whether a key has a webhook is read when its messages move, not when they were sent."""
    ids = await customer.messages(2)
    await _send(customer, ids)
    assert await customer.events() == []
    await customer.hook("https://hooks.example.com/in")
    async with customer.db.write() as conn:
        await lifecycle.finish(conn, ids, DELIVERED, datetime.now(UTC), None)
    assert [r["event_type"] for r in await customer.events()] == ["sms.delivered"] * 2


async def test_a_large_batch(customer: Customer) -> None:
    await customer.hook("https://hooks.example.com/in")
    ids = await customer.messages(2000)
    await _send(customer, ids)
    rows = await customer.events()
    assert len(rows) == 2000
    assert {json.loads(r["body"])["data"]["sms_id"] for r in rows} == set(ids)


async def test_a_claim_leases_due_events_oldest_first_and_leaves_busy_keys_out(db) -> None:
    start = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    made = [
        make_event(key_id, EventType.SMS_SENT, {"n": n}, start + timedelta(seconds=n))
        for n, key_id in enumerate([1, 2, 1, 2, 3])
    ]
    now_ms = int(start.timestamp() * 1000) + 60_000
    async with db.write() as conn:
        await outbox.add(conn, made)
    async with db.read() as conn:
        assert await outbox.any_due(conn, now_ms)
        assert not await outbox.any_due(conn, now_ms, skip_keys=[1, 2, 3])
        # Not due yet: each event is due from its creation.
        assert not await outbox.any_due(conn, int(start.timestamp() * 1000) - 1)
    async with db.write() as conn:
        first = await outbox.claim(conn, "a", 2, now_ms, 30_000, skip_keys=[1])
        second = await outbox.claim(conn, "b", 2, now_ms, 30_000)
        third = await outbox.claim(conn, "c", 10, now_ms, 30_000)
        fourth = await outbox.claim(conn, "d", 10, now_ms, 30_000)
    # Each claim takes the oldest due events it may (in no promised order).
    assert {e.id for e in first} == {made[1].id, made[3].id}
    assert {e.id for e in second} == {made[0].id, made[2].id}
    assert {e.id for e in third} == {made[4].id}
    assert fourth == []
    async with db.read() as conn:
        assert not await outbox.any_due(conn, now_ms)
        # Once the lease has run out, the events are due again.
        assert await outbox.any_due(conn, now_ms + 30_001)
