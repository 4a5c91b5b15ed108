"""A write transaction commits everything it wrote or nothing, however it ends (an error of its
own, one the database refuses, a cancel while a statement runs, a connection lost), and the
connection it used serves the next one cleanly: a pool that handed out a connection still inside
a failed transaction, or one the server has closed, would fail every request given it after."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from ileti.store import accounts, idempotency
from ileti.store.db import Database
from ileti.store.sql import POSTGRES_ONLY, Raw
from support.clock import ManualClock

_NAMES = Raw("SELECT name FROM accounts ORDER BY name")
_SETTINGS = Raw(
    "SELECT current_setting('plan_cache_mode') AS plans,"
    " current_setting('enable_seqscan') AS seqscan, pg_backend_pid() AS backend",
    sqlite=POSTGRES_ONLY,
)


async def _names(db: Database) -> list[str]:
    async with db.read() as conn:
        return [row["name"] for row in await _NAMES.rows(conn)]


async def test_a_write_that_raises_leaves_nothing_and_the_next_commits(db: Database) -> None:
    now = ManualClock().now()
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await accounts.create_account(conn, "undone", now, credits=100)
            raise RuntimeError("the caller changed its mind")
    async with db.write() as conn:
        await accounts.create_account(conn, "kept", now, credits=100)
    assert await _names(db) == ["kept"]


async def test_a_statement_the_database_refuses_undoes_its_whole_transaction(
    db: Database,
) -> None:
    now = ManualClock().now()
    async with db.write() as conn:
        await accounts.create_account(conn, "first", now, credits=100)
    answer = (1, "fingerprint", idempotency.KeptResponse("hash", "TS-1024", {}), 60_000)
    async with db.write() as conn:
        await idempotency.keep_many(conn, [answer], 0)
    with pytest.raises(IntegrityError):
        async with db.write() as conn:
            await accounts.create_account(conn, "second", now, credits=100)
            await idempotency.keep_many(conn, [answer], 0)  # the same answer, still live
    # Every connection of the pool still works, one after another and all at once.
    for round_ in range(3):
        async with db.write() as conn:
            await accounts.create_account(conn, f"after-{round_}", now, credits=100)

    async def one(index: int) -> None:
        async with db.write() as conn:
            await accounts.create_account(conn, f"together-{index}", now, credits=100)

    await asyncio.gather(*(one(index) for index in range(8)))
    names = await _names(db)
    assert "second" not in names
    assert len(names) == 1 + 3 + 8


async def test_a_write_cancelled_while_a_statement_runs_leaves_nothing(db: Database) -> None:
    now = ManualClock().now()
    wrote = asyncio.Event()

    async def slow_write() -> None:
        async with db.write() as conn:
            await accounts.create_account(conn, "cancelled", now, credits=100)
            wrote.set()
            if db.is_postgres:
                await conn.execute(text("SELECT pg_sleep(30)"))
            else:
                await asyncio.sleep(30)

    task = asyncio.create_task(slow_write())
    await asyncio.wait_for(wrote.wait(), 10)
    await asyncio.sleep(0.2)  # the sleep is under way on the server
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _names(db) == []
    # The pool hands out only connections that are idle and outside any transaction.
    for index in range(25):
        async with db.write() as conn:
            await accounts.create_account(conn, f"next-{index}", now, credits=100)
    assert len(await _names(db)) == 25


async def test_custom_plans_hold_for_their_transaction_only(db: Database) -> None:
    if not db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite has no plan settings")
    async with db.write(custom_plans=True) as conn:
        inside = await _SETTINGS.first(conn)
    assert inside is not None
    assert (inside["plans"], inside["seqscan"]) == ("force_custom_plan", "off")
    # One transaction at a time: the pool gives the same connection back.
    async with db.write() as conn:
        after = await _SETTINGS.first(conn)
    assert after is not None
    assert after["backend"] == inside["backend"]
    assert (after["plans"], after["seqscan"]) == ("auto", "on")


async def test_a_write_whose_connection_is_lost_leaves_nothing_and_the_next_commits(
    db: Database,
) -> None:
    if not db.is_postgres:
        pytest.skip("PostgreSQL only: an embedded SQLite has no connection to lose")
    now = ManualClock().now()
    with pytest.raises(DBAPIError):
        async with db.write() as conn:
            await accounts.create_account(conn, "lost", now, credits=100)
            backend = await _SETTINGS.first(conn)
            assert backend is not None
            async with db.read() as other:
                await other.execute(
                    text("SELECT pg_terminate_backend(:pid)"), {"pid": backend["backend"]}
                )
            await _SETTINGS.first(conn)
    for index in range(3):
        async with db.write() as conn:
            await accounts.create_account(conn, f"next-{index}", now, credits=100)
    assert await _names(db) == ["next-0", "next-1", "next-2"]


async def test_a_pooled_connection_the_server_closed_fails_one_write_only(db: Database) -> None:
    if not db.is_postgres:
        pytest.skip("PostgreSQL only: an embedded SQLite has no connection to lose")
    now = ManualClock().now()
    async with db.write() as conn:
        pooled = await _SETTINGS.first(conn)
    assert pooled is not None
    # The server restarts, say: the pooled connection is gone. (From a connection of its own:
    # the pool would hand this one out again.)
    killer = await asyncpg.connect(make_url(db.url).set(drivername="postgresql").render_as_string())
    try:
        await killer.execute("SELECT pg_terminate_backend($1)", pooled["backend"])
    finally:
        await killer.close()
    failed = 0
    for index in range(3):
        try:
            async with db.write() as conn:
                await accounts.create_account(conn, f"after-{index}", now, credits=100)
        except DBAPIError:
            failed += 1
    assert failed <= 1
    assert len(await _names(db)) == 3 - failed
