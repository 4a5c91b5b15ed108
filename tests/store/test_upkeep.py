"""Upkeep of PostgreSQL's tables: statistics and dead rows kept in check by the worker itself
(the server here runs without autovacuum, as some do)."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from sqlalchemy import text

from ileti.store.db import Database
from ileti.store.upkeep import upkeep

# 5,000 messages on their way: the planner must look a few up by id, not walk them all.
_SENT_MESSAGES = text(
    "INSERT INTO messages (id, account_id, key_id, kind, title, sentto, country, text, sms_lang,"
    " lang, segments, content_type, status, cost, cost_balance, created_at, due_at, expires_at,"
    " attempts)"
    " SELECT i, 1, 1, 'single', 'ILETI', '90532' || lpad(i::text, 7, '0'), 'Turkey-TR', 'hi',"
    " 'Turkish', '1', 1, 0, 'sent', 1, 'main', now(), now(), now() + interval '1 day', 0"
    " FROM generate_series(1, 5000) AS i"
)
_QUEUE_CHURN = (
    text(
        "INSERT INTO dispatch_queue (message_id, priority, due_ms, lease_until_ms, attempts)"
        " SELECT i, 1, 0, 0, 0 FROM generate_series(1, 5000) AS i"
    ),
    text("DELETE FROM dispatch_queue"),
)
_FINISH_SOME = (
    "UPDATE messages SET status = 'delivered' WHERE id = ANY('{17, 2500, 4999}')"
    " AND status = ANY('{sent}')"
)


async def _tables(db: Database) -> dict[str, tuple[int, int]]:
    """Dead rows and the planner's row count, by table."""
    async with db.read() as conn:
        rows = await conn.execute(
            text(
                "SELECT s.relname, s.n_dead_tup, c.reltuples::bigint FROM pg_stat_user_tables s"
                " JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = current_schema()"
            )
        )
        return {name: (dead, planned) for name, dead, planned in rows}


async def _finish_plan(db: Database) -> str:
    async with db.read() as conn:
        plan = (await conn.execute(text("EXPLAIN (FORMAT JSON) " + _FINISH_SOME))).scalar_one()
    return orjson.dumps(plan).decode()


async def _changed_and_counted(db: Database) -> None:
    """Churn the queue and fill the messages table, then wait until the server counted it."""
    async with db.write() as conn:
        await conn.execute(_SENT_MESSAGES)
        for statement in _QUEUE_CHURN:
            await conn.execute(statement)
    # Backends report their counts when they go idle, at most once a second: closing the
    # pool's connections reports them now.
    await db.engine.dispose()
    deadline = time.monotonic() + 15
    while (await _tables(db)).get("dispatch_queue", (0, 0))[0] < 5000:
        assert time.monotonic() < deadline, "the server never counted the dead rows"
        await asyncio.sleep(0.2)


async def test_upkeep_analyses_and_vacuums_what_changed(db: Database) -> None:
    if not db.is_postgres:
        assert await upkeep(db) == []  # SQLite has nothing of the kind to do
        return
    await _changed_and_counted(db)
    before = await _tables(db)
    assert before["messages"][1] <= 0  # never analysed: the planner guesses

    done = {work.table: work for work in await upkeep(db)}

    assert done["messages"].analyze
    assert done["dispatch_queue"].vacuum
    assert "pk_messages" in await _finish_plan(db)
    after = await _tables(db)
    assert after["messages"][1] == 5000
    assert after["dispatch_queue"][0] == 0
    # Nothing changed since: nothing is due.
    assert await upkeep(db) == []


async def test_one_worker_at_a_time_keeps_the_tables(db: Database) -> None:
    if not db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite has no upkeep to share")
    await _changed_and_counted(db)
    async with db.engine.connect() as other:
        held = await other.scalar(
            text("SELECT pg_try_advisory_lock(hashtext('ileti upkeep ' || current_schema()))")
        )
        assert held
        assert await upkeep(db) == []  # the other worker is at it
        await other.execute(
            text("SELECT pg_advisory_unlock(hashtext('ileti upkeep ' || current_schema()))")
        )
    assert {work.table for work in await upkeep(db)} >= {"messages", "dispatch_queue"}
