"""SQLite for the async engine without a thread hop per statement.

aiosqlite runs every call on a worker thread; on a small VM each hop costs about 100 µs,
several times what the query itself costs (a keyed read is a few µs), and a request makes
several. This connection runs statements on the event loop thread and sends only the calls
that may wait to a thread: ``BEGIN IMMEDIATE`` (it waits for the write lock another process may
hold) and ``COMMIT`` (it waits for the disk). A connection lent for a report (``reporting``)
sends every statement and fetch to a thread of its own: a report may read a million rows, and
the event loop serves everyone else meanwhile. It offers the part of aiosqlite's interface that
SQLAlchemy's ``sqlite+aiosqlite`` dialect uses, and is handed to it as ``async_creator``.

Processes sharing one file (``ileti serve`` with API processes, ``ileti api`` beside ``ileti
worker``) take turns to write through a lock on a file beside the database (``WriterLock``),
held from ``BEGIN IMMEDIATE`` to the end of the transaction. SQLite's own lock would do, but a
process that finds it taken sleeps and tries again (up to 100 ms between tries), while the
process holding it takes it again the moment it is free: under a steady stream of API writes
the worker hardly wrote at all. A waiter on the file lock is woken as it is released.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ileti.store.metrics import WRITER_HOLDING, WRITER_WAITING

T = TypeVar("T")

_BEGIN_WRITE = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


class WriterLock:
    """The turn to write among the processes sharing a database: ``flock`` on a file beside it.

    Each connection opens the file itself (a ``flock`` belongs to one open file), and the lock
    goes with the descriptor when the connection closes or the process dies.
    """

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self.held = False
        self._taken_at = 0.0

    def acquire(self) -> None:
        asked_at = time.perf_counter()
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._taken_at = time.perf_counter()
        self.held = True
        WRITER_WAITING.inc(self._taken_at - asked_at)

    def release(self) -> None:
        if self.held:
            self.held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            WRITER_HOLDING.inc(time.perf_counter() - self._taken_at)

    def close(self) -> None:
        os.close(self._fd)


class InlineCursor:
    def __init__(self, owner: InlineConnection) -> None:
        self._owner = owner
        self._cursor = owner._conn.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        owner = self._owner
        await owner.idle()
        if owner.reporting:
            await owner.off_loop(self._cursor.execute, sql, parameters, executor=owner.reports)
        elif sql.lstrip()[:16].upper().startswith(_BEGIN_WRITE):
            await owner.off_loop(owner.begin_write, self._cursor, sql, parameters)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        await self._owner.idle()
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return await self._fetch(self._cursor.fetchone)

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return await self._fetch(
            self._cursor.fetchmany, size if size is not None else self._cursor.arraysize
        )

    async def fetchall(self) -> list[Any]:
        return await self._fetch(self._cursor.fetchall)

    async def _fetch(self, fetch: Callable[..., T], *args: Any) -> T:
        # Fetching steps the statement on: for a report, that is where rows are read.
        if self._owner.reporting:
            return await self._owner.off_loop(fetch, *args, executor=self._owner.reports)
        return fetch(*args)

    async def close(self) -> None:
        self._cursor.close()


class _InlineQueue:
    """What SQLAlchemy's isolation-level setter puts work on (aiosqlite's ``_tx``)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class InlineConnection:
    def __init__(
        self,
        conn: sqlite3.Connection,
        executor: ThreadPoolExecutor,
        reports: ThreadPoolExecutor,
        writer: WriterLock | None = None,
    ) -> None:
        self._conn = conn
        self._writer = writer
        self._connection: sqlite3.Connection | None = conn
        self._executor = executor
        # Threads for reports, apart from the one commits take: a long report never holds up
        # a commit.
        self.reports = reports
        # Lent for a report: every statement and fetch goes to a thread.
        self.reporting = False
        self._tx = _InlineQueue()
        # A call running on the thread: nothing else may touch the connection meanwhile.
        self._busy: asyncio.Future[Any] | None = None

    async def off_loop(
        self, function: Callable[..., T], *args: Any, executor: ThreadPoolExecutor | None = None
    ) -> T:
        await self.idle()
        busy = self._busy = asyncio.get_running_loop().run_in_executor(
            executor or self._executor, function, *args
        )
        # If the caller is cancelled, the thread still runs to the end; the next call on this
        # connection (a rollback, a close) waits for it instead of racing it.
        return await asyncio.shield(busy)

    async def idle(self) -> None:
        busy = self._busy
        if busy is not None:
            if not busy.done():
                await asyncio.wait([busy])
            self._busy = None

    def begin_write(self, cursor: sqlite3.Cursor, sql: str, parameters: Any) -> None:
        """On a thread: wait for the turn to write among processes, then for SQLite's lock."""
        if self._writer is not None:
            self._writer.acquire()
        try:
            cursor.execute(sql, parameters)
        except BaseException:
            self._end_write()
            raise

    def _end_write(self) -> None:
        if self._writer is not None and not self._conn.in_transaction:
            self._writer.release()

    def _commit(self) -> None:
        try:
            self._conn.commit()
        finally:
            self._end_write()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    # The store's own statements (``sql.Raw``): rows readable by column name and, on a
    # connection lent to a report, read on a thread.

    async def raw_rows(self, sql: str, parameters: Sequence[Any]) -> list[sqlite3.Row]:
        await self.idle()
        if self.reporting:
            return await self.off_loop(self._rows, sql, parameters, executor=self.reports)
        return self._rows(sql, parameters)

    async def raw_count(self, sql: str, parameters: Sequence[Any]) -> int:
        await self.idle()
        return self._conn.execute(sql, parameters).rowcount

    async def raw_each(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.idle()
        self._conn.executemany(sql, rows)

    def _rows(self, sql: str, parameters: Sequence[Any]) -> list[sqlite3.Row]:
        cursor = self._conn.cursor()
        cursor.row_factory = sqlite3.Row
        return cursor.execute(sql, parameters).fetchall()

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        await self.idle()
        if self._conn.in_transaction:
            await self.off_loop(self._commit)

    async def rollback(self) -> None:
        await self.idle()
        try:
            self._conn.rollback()
        finally:
            self._end_write()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        await self.idle()
        if self._connection is not None:
            self._connection = None
            self._close()

    def stop(self) -> None:
        if self._connection is None:
            return
        self._connection = None
        if self._busy is not None and not self._busy.done():
            self._busy.add_done_callback(lambda _: self._close())
        else:
            self._close()

    def _close(self) -> None:
        self._conn.close()
        if self._writer is not None:
            self._writer.close()  # and with it the turn to write, if this connection had it


def connector(
    path: str, executor: ThreadPoolExecutor, reports: ThreadPoolExecutor, timeout: float = 30.0
):
    """An ``async_creator`` for SQLAlchemy: a new inline connection to ``path`` each call."""

    async def connect() -> InlineConnection:
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        # An in-memory database belongs to its connection: no other process can write to it.
        writer = WriterLock(f"{path}-writer") if path != ":memory:" else None
        return InlineConnection(conn, executor, reports, writer)

    return connect
