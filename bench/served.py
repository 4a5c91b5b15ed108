"""Start ``ileti serve`` (or ``ileti api``) as its own process for a benchmark, with a key.

The gateway is the ``ileti`` of the Python that runs the benchmark, so a benchmark of this
checkout runs another checkout's gateway when that checkout's interpreter runs it:
``cd /work/base && .venv/bin/python /work/main/bench/send.py``. Besides starting and stopping it:
a restart with SIGTERM (``Served.restart``), the CPU time and memory of its processes and their
children (``Served.pids``, ``cpu_seconds``, ``rss_mb``), and reads of its database with the
plain drivers (``Reader``), which need nothing of the gateway's own code.

Benchmarks import it after ``sys.path.insert(0, str(Path(__file__).parent))``.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from threading import Thread
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from ileti.store.db import Database

ILETI = [sys.executable, "-m", "ileti"]
KEY = re.compile(r"ilt_[0-9a-f]{10}_[A-Za-z0-9_-]{43}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    process: subprocess.Popen
    base_url: str
    workdir: Path
    env: dict[str, str]
    label: str = "ileti serve, SQLite"
    others: list[subprocess.Popen] = field(default_factory=list)
    # How each process was started (arguments, log name), the main one first: for a restart.
    commands: list[tuple[list[str], str]] = field(default_factory=list)

    def start_other(self, args: list[str], name: str) -> subprocess.Popen:
        """Another process of the gateway (``ileti worker``), stopped and restarted with it."""
        process = _spawn(args, self.env, self.workdir, name)
        self.others.append(process)
        self.commands.append((args, name))
        return process

    def pids(self) -> list[int]:
        """The gateway's live processes and all their descendants."""
        roots = [p.pid for p in [self.process, *self.others] if p.poll() is None]
        return process_tree(roots)

    def restart(self, timeout: float = 90.0) -> Restart:
        """SIGTERM to every process of the gateway at once (as a deploy does), then the same
        commands again; returns once the API answers."""
        processes = [self.process, *self.others]
        began = time.monotonic()
        for process in processes:
            process.send_signal(signal.SIGTERM)
        codes = [_wait_or_kill(process, timeout) for process in processes]
        stopped = time.monotonic()
        (main_args, main_log), *rest = self.commands
        self.process = _spawn(main_args, self.env, self.workdir, main_log, append=True)
        self.others = [_spawn(a, self.env, self.workdir, n, append=True) for a, n in rest]
        _wait_answering(self.base_url, self.process, self.workdir / f"{main_log}.log")
        return Restart(codes, stopped - began, time.monotonic() - stopped)

    def ileti(self, *args: str) -> str:
        """Run an admin command against the served database; its standard output."""
        done = subprocess.run(
            [*ILETI, *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"ileti {' '.join(args)} failed: {done.stderr or done.stdout}")
        return done.stdout

    def unlimited_key(self, account: str = "demo") -> str:
        match = KEY.search(self.ileti("key", "create", account, "--per-minute", "0"))
        assert match is not None
        return match.group(0)

    def stop(self) -> None:
        for process in [self.process, *self.others]:
            process.terminate()
        for process in [self.process, *self.others]:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class Restart:
    exit_codes: list[int]  # a negative code: killed by that signal after the timeout
    stop_seconds: float  # SIGTERM to the last process gone
    start_seconds: float  # the new processes started to the API answering


def _wait_or_kill(process: subprocess.Popen, timeout: float) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def serve(extra_env: dict[str, str] | None = None, command: str = "serve") -> Served:
    """``ileti serve --demo`` on a fresh SQLite file (or the database ``extra_env`` names)."""
    workdir = Path(tempfile.mkdtemp(prefix="ileti-bench-"))
    env = {
        **os.environ,
        "ILETI_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'ileti.db'}",
        "ILETI_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    port = free_port()
    args = [*ILETI, command, "--port", str(port)] + (["--demo"] if command == "serve" else [])
    process = _spawn(args, env, workdir, "server")
    base_url = f"http://127.0.0.1:{port}"
    _wait_answering(base_url, process, workdir / "server.log")
    return Served(process, base_url, workdir, env, commands=[(args, "server")])


def _wait_answering(base_url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base_url}/openapi.json", timeout=1).read()
            return
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.1)


def _spawn(
    args: list[str], env: dict[str, str], workdir: Path, name: str, *, append: bool = False
) -> subprocess.Popen:
    # Lives as long as the process.
    log = open(workdir / f"{name}.log", "ab" if append else "wb")  # noqa: SIM115
    return subprocess.Popen(args, env=env, cwd=workdir, stdout=log, stderr=log)


@contextmanager
def gateway(postgres_url: str | None = None, extra_env: dict[str, str] | None = None):
    """The gateway for a benchmark, stopped afterwards.

    Without ``postgres_url``: ``ileti serve --demo`` on SQLite. With it: a fresh schema there,
    the demo account made with the admin commands, ``ileti api`` and ``ileti worker`` as two
    processes.
    """
    if postgres_url is None:
        served = serve(extra_env)
        try:
            yield served
        finally:
            served.stop()
        return
    schema = f"ileti_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(autocommit(postgres_url, f'CREATE SCHEMA "{schema}"'))
    env = {
        "ILETI_DATABASE_URL": postgres_url,
        "ILETI_DATABASE_SCHEMA": schema,
        **(extra_env or {}),
    }
    try:
        served = serve(env, command="api")
        served.label = "ileti api + ileti worker, PostgreSQL"
        served.ileti("account", "create", "demo", "--credits", "1000")
        served.ileti("title", "add", "demo", "ILETI", "--active")
        served.start_other([*ILETI, "worker"], "worker")
        try:
            yield served
        finally:
            served.stop()
    finally:
        asyncio.run(autocommit(postgres_url, f'DROP SCHEMA "{schema}" CASCADE'))


async def autocommit(url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP SCHEMA for a benchmark)."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def message_states(served: Served) -> dict[str, int]:
    """Messages by state, read from the gateway's database."""

    async def read() -> dict[str, int]:
        db = Database(
            served.env["ILETI_DATABASE_URL"], schema=served.env.get("ILETI_DATABASE_SCHEMA")
        )
        try:
            async with db.read() as conn:
                rows = await conn.execute(
                    text("SELECT status, count(*) FROM messages GROUP BY status")
                )
                return {row[0]: row[1] for row in rows}
        finally:
            await db.close()

    return asyncio.run(read())


def updated_in_place(served: Served) -> tuple[int, int]:
    """PostgreSQL's updates of ``messages`` so far, and how many of them were HOT (in place:
    no new index entry), from its statistics (flushed by each backend within a second)."""

    async def read() -> tuple[int, int]:
        db = Database(
            served.env["ILETI_DATABASE_URL"], schema=served.env.get("ILETI_DATABASE_SCHEMA")
        )
        try:
            async with db.read() as conn:
                row = (
                    await conn.execute(
                        text(
                            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables"
                            " WHERE relid = 'messages'::regclass"
                        )
                    )
                ).one()
                return int(row[0]), int(row[1])
        finally:
            await db.close()

    return asyncio.run(read())


def last_done_at(served: Served) -> float | None:
    """When the last message reached a final state, as the gateway recorded it (epoch s)."""
    from sqlalchemy import func, select

    from ileti.store.models import Message

    async def read() -> float | None:
        db = Database(
            served.env["ILETI_DATABASE_URL"], schema=served.env.get("ILETI_DATABASE_SCHEMA")
        )
        try:
            async with db.read() as conn:
                last = await conn.scalar(select(func.max(Message.done_at)))
                return last.timestamp() if last is not None else None
        finally:
            await db.close()

    return asyncio.run(read())


# /proc/PID/stat after the command's closing parenthesis: state is field 0 here.
_PPID, _UTIME, _STIME, _CUTIME, _CSTIME, _RSS = 1, 11, 12, 13, 14, 21
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None  # gone meanwhile


def process_tree(roots: Sequence[int]) -> list[int]:
    """``roots`` and all their live descendants (Linux only)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            children.setdefault(int(fields[_PPID]), []).append(int(entry))
    found: list[int] = []
    todo = list(roots)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """User and system CPU time of each live process of ``pids``, with that of its children
    that ended and were waited for (so a worker process that exits still counts once)."""
    times: dict[int, float] = {}
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            ticks = sum(int(fields[i]) for i in (_UTIME, _STIME, _CUTIME, _CSTIME))
            times[pid] = ticks / _TICKS
    return times


def rss_mb(pids: Sequence[int]) -> float:
    """Resident memory of ``pids`` together, in MiB (shared pages counted in each)."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += int(fields[_RSS]) * _PAGE
    return total / 2**20


def postgres_pids() -> list[int]:
    """Every process of the PostgreSQL server on this machine (all databases: only a fair
    measure while nothing else uses the server)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().strip() == "postgres":
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


class Reader:
    """Reads of the gateway's database on a thread of its own, through sqlite3 or asyncpg, so
    that a benchmark's event loop never waits for them and they need nothing of the gateway's
    code. Statements use ``$1``-style placeholders (rewritten to ``?`` for SQLite)."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        self.url, self.schema = url, schema
        self.loop = asyncio.new_event_loop()
        self.thread = Thread(target=self.loop.run_forever, name="db-reader", daemon=True)
        self.thread.start()
        self._sqlite: sqlite3.Connection | None = None
        self._postgres: Any = None
        self._lock: asyncio.Lock | None = None  # made on the reader's own loop

    @classmethod
    def of(cls, served: Served) -> Reader:
        return cls(served.env["ILETI_DATABASE_URL"], served.env.get("ILETI_DATABASE_SCHEMA"))

    def submit(self, sql: str, *params: Any) -> Future[list[tuple]]:
        """The rows, later; ``asyncio.wrap_future`` awaits them from another loop."""
        return asyncio.run_coroutine_threadsafe(self._rows(sql, params), self.loop)

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        return self.submit(sql, *params).result()

    def one(self, sql: str, *params: Any) -> Any:
        [(value,)] = self.rows(sql, *params)
        return value

    async def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        # One statement at a time: an asyncpg connection takes no second one meanwhile.
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            return await self._run(sql, params)

    async def _run(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        scheme = urlsplit(self.url).scheme
        if scheme.startswith("sqlite"):
            if self._sqlite is None:
                # The gateway writes in WAL mode: a reader here never blocks it.
                path = self.url.split(":///", 1)[1]
                self._sqlite = sqlite3.connect(path, timeout=30, isolation_level=None)
            return self._sqlite.execute(re.sub(r"\$\d+", "?", sql), params).fetchall()
        if self._postgres is None:
            import asyncpg

            dsn = self.url.replace(scheme, "postgresql", 1)
            settings = {"search_path": self.schema} if self.schema else {}
            self._postgres = await asyncpg.connect(dsn, server_settings=settings)
        return [tuple(row) for row in await self._postgres.fetch(sql, *params)]

    def close(self) -> None:
        async def close() -> None:
            if self._postgres is not None:
                await self._postgres.close()
            if self._sqlite is not None:
                self._sqlite.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
