"""Processes sharing one SQLite file take turns to write: the turn is held for a whole write
transaction and given back however it ends, and another process waits for it."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sys
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from ileti.store.db import Database

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock")


def _turn_is_free(database: Path) -> bool:
    """Whether another process could take the turn to write now."""
    fd = os.open(f"{database}-writer", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def _path(db: Database) -> Path:
    return Path(db.url.split("///", 1)[1])


async def test_a_write_holds_the_turn_until_it_commits(sqlite_db: Database) -> None:
    async with sqlite_db.write() as conn:
        await conn.execute(text("SELECT count(*) FROM accounts"))
        assert not _turn_is_free(_path(sqlite_db))
    assert _turn_is_free(_path(sqlite_db))


async def test_a_write_that_fails_gives_the_turn_back(sqlite_db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with sqlite_db.write() as conn:
            await conn.execute(text("SELECT count(*) FROM accounts"))
            raise RuntimeError("the transaction is rolled back")
    assert _turn_is_free(_path(sqlite_db))
    async with sqlite_db.read() as conn:
        # Reads never take it.
        await conn.execute(text("SELECT count(*) FROM accounts"))
        assert _turn_is_free(_path(sqlite_db))


async def test_another_process_waits_for_the_turn_and_then_writes(sqlite_db: Database) -> None:
    database = _path(sqlite_db)
    writer = (
        "import asyncio, sys\n"
        "from sqlalchemy import text\n"
        "from ileti.store.db import Database\n"
        "async def main():\n"
        "    db = Database(sys.argv[1])\n"
        "    print('waiting', flush=True)\n"
        "    async with db.write() as conn:\n"
        '        await conn.execute(text("INSERT INTO turns VALUES (2)"))\n'
        "    await db.close()\n"
        "asyncio.run(main())\n"
    )
    async with sqlite_db.write() as conn:
        await conn.execute(text("CREATE TABLE turns (n INTEGER)"))
    async with sqlite_db.write() as conn:
        await conn.execute(text("INSERT INTO turns VALUES (1)"))
        other = await asyncio.create_subprocess_exec(
            sys.executable, "-c", writer, sqlite_db.url, stdout=asyncio.subprocess.PIPE
        )
        assert other.stdout is not None
        assert await other.stdout.readline() == b"waiting\n"
        # It cannot have written: this transaction has the turn until it commits.
        await asyncio.sleep(0.5)
        assert other.returncode is None
    assert await asyncio.wait_for(other.wait(), 30) == 0
    async with sqlite_db.read() as conn:
        rows = (await conn.execute(text("SELECT n FROM turns ORDER BY rowid"))).all()
    assert [n for (n,) in rows] == [1, 2]
    assert _turn_is_free(database)


def _writer_seconds(phase: str) -> float:
    return REGISTRY.get_sample_value("ileti_sqlite_writer_seconds_total", {"phase": phase}) or 0.0


async def test_the_time_the_turn_is_held_and_waited_for_is_in_the_metrics(
    sqlite_db: Database,
) -> None:
    """What tells an operator that the single writer is what limits sending."""
    held, waited = _writer_seconds("holding"), _writer_seconds("waiting")
    async with sqlite_db.write() as conn:
        await conn.execute(text("SELECT count(*) FROM accounts"))
        await asyncio.sleep(0.3)
    assert _writer_seconds("holding") - held >= 0.3
    assert _writer_seconds("waiting") - waited < 0.3

    # Another process has the turn for a while: the write waits for it.
    fd = os.open(f"{_path(sqlite_db)}-writer", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        waited = _writer_seconds("waiting")

        async def write() -> None:
            async with sqlite_db.write() as conn:
                await conn.execute(text("SELECT count(*) FROM accounts"))

        writing = asyncio.create_task(write())
        await asyncio.sleep(0.4)
        assert not writing.done()
        fcntl.flock(fd, fcntl.LOCK_UN)
        await asyncio.wait_for(writing, 30)
    finally:
        os.close(fd)
    assert _writer_seconds("waiting") - waited >= 0.4
