"""Reports on SQLite run off the event loop: a long one never stops the other requests."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import event, text

from ileti.store.db import Database


async def _register_waiting_function(
    db: Database, started: asyncio.Event, released: threading.Event, patience: float
) -> None:
    """``wait_for_loop()`` in SQL: 1 once the event loop has released it, 0 if it never does.
    Registered on the pool's one connection, which the next read borrows again."""
    loop = asyncio.get_running_loop()

    def wait_for_loop() -> int:
        loop.call_soon_threadsafe(started.set)
        return 1 if released.wait(patience) else 0

    async with db.read() as conn:
        driver = conn.sync_connection.connection.driver_connection
        await driver.create_function("wait_for_loop", 0, wait_for_loop)


async def _query_while_the_loop_releases(db: Database, *, report: bool) -> tuple[int, bool]:
    started, released = asyncio.Event(), threading.Event()
    await _register_waiting_function(db, started, released, patience=5.0 if report else 0.5)

    async def release() -> None:
        # Only once the query waits in the database: a release before it would prove nothing.
        await started.wait()
        released.set()

    async def query() -> int:
        async with db.read(report=report) as conn:
            return (await conn.execute(text("SELECT wait_for_loop()"))).scalar_one()

    releaser = asyncio.create_task(release())
    result = await query()
    ran_meanwhile = releaser.done()
    await releaser
    return result, ran_meanwhile


async def test_a_report_query_leaves_the_event_loop_running(sqlite_db: Database) -> None:
    result, ran_meanwhile = await _query_while_the_loop_releases(sqlite_db, report=True)
    assert result == 1  # the loop ran the releaser while the query waited on its thread
    assert ran_meanwhile


async def test_an_ordinary_read_runs_on_the_event_loop(sqlite_db: Database) -> None:
    # The contrast: a keyed read runs inline, so the loop cannot release it until it gives up.
    result, _ = await _query_while_the_loop_releases(sqlite_db, report=False)
    assert result == 0


async def test_many_reports_at_once_leave_connections_for_everyone_else(
    sqlite_db: Database,
) -> None:
    released = threading.Event()
    holding = asyncio.Event()
    loop = asyncio.get_running_loop()

    def hold() -> int:
        loop.call_soon_threadsafe(holding.set)
        return 1 if released.wait(10) else 0

    @event.listens_for(sqlite_db.engine.sync_engine, "connect")
    def _register(dbapi_connection, _record) -> None:
        dbapi_connection.create_function("hold", 0, hold)

    await sqlite_db.engine.dispose()  # every connection from now on knows hold()

    async def report() -> int:
        async with sqlite_db.read(report=True) as conn:
            return (await conn.execute(text("SELECT hold()"))).scalar_one()

    # More reports than the pool has connections (16), all started; those that run wait on
    # the database, the others for their turn.
    reports = [asyncio.create_task(report()) for _ in range(20)]
    async with asyncio.timeout(5):
        await holding.wait()
    try:
        async with asyncio.timeout(5):
            async with sqlite_db.read() as conn:
                assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        released.set()
    assert await asyncio.gather(*reports) == [1] * 20
