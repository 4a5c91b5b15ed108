"""The database handle: one async engine, write and read transactions.

SQLite allows one writer at a time. Write transactions therefore start with ``BEGIN IMMEDIATE``
(so a reader never has to upgrade its lock mid-transaction, which SQLite refuses without waiting)
and, inside one process, queue on an asyncio lock instead of spinning on ``database is locked``.
PostgreSQL needs neither: row locks and ``SKIP LOCKED`` do that work there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ileti.config import Settings
from ileti.store import pg_times
from ileti.store.sql import driver_of
from ileti.store.sqlite_inline import connector
from ileti.store.write_lock import WriteLock

_WRITE = "ileti_write"
_REPORT_THREADS = 2
# For a transaction whose statements are planned for their values (``write(custom_plans=True)``).
_CUSTOM_PLANS = (
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
    " set_config('enable_seqscan', 'off', true)"
)


def open_database(settings: Settings) -> Database:
    """The database the settings name."""
    return Database(
        settings.database_url,
        schema=settings.database_schema,
        sqlite_synchronous=settings.sqlite_synchronous,
    )


class Database:
    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        sqlite_synchronous: str = "FULL",
        echo: bool = False,
    ) -> None:
        self.url = url
        self.schema = schema
        if sqlite_synchronous.upper() not in ("FULL", "NORMAL"):
            raise ValueError("sqlite_synchronous is FULL or NORMAL")
        self.sqlite_synchronous = sqlite_synchronous.upper()
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.is_postgres = parsed.get_backend_name() == "postgresql"
        self.engine: AsyncEngine = self._create_engine(echo)
        self._writer_lock = WriteLock() if self.is_sqlite else None

    def _create_engine(self, echo: bool) -> AsyncEngine:
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            database = make_url(self.url).database or ":memory:"
            if database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sqlite")
            self._reports = ThreadPoolExecutor(
                max_workers=_REPORT_THREADS, thread_name_prefix="sqlite-report"
            )
            # Reports wait for a thread before they take a connection: however many run at
            # once, they hold at most this many of the pool's, and the rest go to everyone else.
            self._report_slots = asyncio.Semaphore(_REPORT_THREADS)
            kwargs["async_creator"] = connector(database, self._executor, self._reports)
            # Statements run inline, so a connection is held only briefly; a fixed pool
            # avoids opening (and schema-parsing) a new one under a burst.
            kwargs.update(pool_size=16, max_overflow=0, pool_timeout=60)
        elif self.is_postgres:
            connect_args: dict[str, Any] = {}
            if self.schema:
                connect_args["server_settings"] = {"search_path": self.schema}
            kwargs.update(connect_args=connect_args, pool_size=20, max_overflow=20)
        engine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(engine, self.sqlite_synchronous)
        elif self.is_postgres:
            event.listen(engine.sync_engine, "connect", pg_times.on_connect)
        return engine

    @asynccontextmanager
    async def write(
        self, urgent: bool = False, *, custom_plans: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A transaction that may write; committed on success, rolled back on any error.
        On SQLite, an ``urgent`` one (a client waits for it) goes ahead of background ones.

        ``custom_plans``: its statements name up to hundreds of rows by lists (``= ANY``). On
        PostgreSQL each is then planned for its own values (a custom plan), and by an index: a
        cached generic plan cannot see a list's size and, made while the tables were small, kept
        scanning them whole as they grew (100,000 messages end to end: 37 s against 27 s); and
        until a table's first ANALYZE the planner takes a list of 80 ids to match 40% of it and
        reads it whole (/sms/send at 1,000/s: p99 150 to 600 ms against under 50). Not for
        every transaction: a bulk insert planned per row, or a list of 100,000 numbers planned
        for its values, is slower.
        """
        if self._writer_lock is None:
            async with self.engine.begin() as conn:
                # SQLAlchemy's asyncpg adapter begins on the server only at the first statement
                # it runs itself: begin now, so that a ``sql.Raw`` statement run first is inside.
                await conn.exec_driver_sql(_CUSTOM_PLANS if custom_plans else "SELECT 1")
                yield conn
            return
        async with self._writer_lock.hold(urgent):
            engine = self.engine.execution_options(**{_WRITE: True})
            async with engine.begin() as conn:
                yield conn

    @asynccontextmanager
    async def read(self, *, report: bool = False) -> AsyncIterator[AsyncConnection]:
        """A connection for reading: a snapshot per statement on SQLite, per transaction on
        PostgreSQL.

        ``report``: its queries may read many rows (an account's month: a million rows took
        1.4 s on SQLite). SQLite statements otherwise run on the event loop; these run on a
        thread, and every other request goes on meanwhile.
        """
        if not (report and self.is_sqlite):
            async with self.engine.connect() as conn:
                yield conn
            return
        async with self._report_slots, self.engine.connect() as conn:
            driver = driver_of(conn)
            driver.reporting = True
            try:
                yield conn
            finally:
                driver.reporting = False

    async def close(self) -> None:
        await self.engine.dispose()
        if self.is_sqlite:
            self._executor.shutdown(wait=False)
            self._reports.shutdown(wait=False)


def _configure_sqlite(engine: AsyncEngine, synchronous: str) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: an accepted message survives a power cut. NORMAL (WAL syncs at checkpoints)
        # survives any crash of the process, not a power cut, and commits faster.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Reads run in autocommit: each statement sees a consistent snapshot, and skipping
        # BEGIN and ROLLBACK halves the cost of a one-query read.
        if conn.get_execution_options().get(_WRITE, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
