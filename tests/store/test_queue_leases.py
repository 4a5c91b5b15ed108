"""Claims of the dispatch queue: what a claim takes, what it leaves to others while its lease
holds, and what is due again when the lease lapses or the entries are given back."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ileti.store import queue
from ileti.store.db import Database

LEASE_MS = 30_000
NOW = 10_000
# Entries at the head of the queue being worked on while the next claim comes.
LEASED = 300


async def _entries(db: Database, first_id: int, count: int, due_ms: int, priority: int) -> None:
    async with db.write() as conn:
        await conn.execute(
            text(
                "INSERT INTO dispatch_queue (message_id, priority, due_ms, lease_until_ms,"
                " attempts) VALUES (:id, :priority, :due, 0, 0)"
            ),
            [{"id": first_id + n, "priority": priority, "due": due_ms + n} for n in range(count)],
        )


async def _claim(db: Database, owner: str, limit: int, now_ms: int) -> list[int]:
    async with db.write(custom_plans=True) as conn:
        rows = await queue.DISPATCH_QUEUE.claim(conn, owner, limit, now_ms, LEASE_MS, 9)
    return sorted(row["message_id"] for row in rows)


@pytest.fixture
async def queued(db: Database) -> Database:
    """300 entries due first, then 20 due later, all of one priority."""
    await _entries(db, 1, LEASED, 1_000, 2)
    await _entries(db, 1_001, 20, 2_000, 2)
    return db


async def test_a_lease_keeps_its_entries_from_other_claims_until_it_lapses(
    queued: Database,
) -> None:
    assert await _claim(queued, "a", LEASED, NOW) == list(range(1, LEASED + 1))
    assert await _claim(queued, "b", 1_000, NOW + 1) == list(range(1_001, 1_021))
    assert await _claim(queued, "c", 1_000, NOW + LEASE_MS - 1) == []
    # Once a's lease has run out, its entries are due again (b's has too, a moment later).
    assert await _claim(queued, "c", 1_000, NOW + LEASE_MS + 1) == list(range(1, LEASED + 1))


KEPT_UNTIL = NOW + 5 * LEASE_MS // 2


async def test_a_kept_lease_holds_until_its_new_end(queued: Database) -> None:
    await _claim(queued, "a", LEASED, NOW)
    async with queued.write() as conn:
        await queue.keep_leases(conn, [1, 2], "a", KEPT_UNTIL)
        await queue.keep_leases(conn, [3], "someone else", KEPT_UNTIL)
    later = NOW + 2 * LEASE_MS
    assert await _claim(queued, "b", 1_000, later) == [
        3,
        *range(4, LEASED + 1),
        *range(1_001, 1_021),
    ]
    # b's lease, taken later, still holds.
    assert await _claim(queued, "c", 1_000, KEPT_UNTIL + 1) == [1, 2]


async def test_entries_given_back_are_due_at_once_and_first(queued: Database) -> None:
    await _claim(queued, "a", LEASED, NOW)
    async with queued.write() as conn:
        await queue.release(conn, [7, 8], "a")
        await queue.release(conn, [9], "not the owner")
    assert await _claim(queued, "b", 3, NOW + 1) == [7, 8, 1_001]
    async with queued.read() as conn:
        attempts = await conn.execute(
            text("SELECT message_id, attempts FROM dispatch_queue WHERE message_id IN (7, 9)")
        )
        # A claim counts as an attempt; one given back unworked does not.
        assert dict(attempts.all()) == {7: 1, 9: 1}
