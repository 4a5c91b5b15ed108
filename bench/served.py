"""Start ``ileti serve`` (or ``ileti api``) as its own process for a benchmark, with a key.

Benchmarks import it after ``sys.path.insert(0, str(Path(__file__).parent))``.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

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

    def ileti(self, *args: str) -> str:
        """Run an admin command against the served database; its standard output."""
        done = subprocess.run(
            [*ILETI, *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            check=True,
        )
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
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base_url}/openapi.json", timeout=1).read()
            break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError((workdir / "server.log").read_text()) from None
            time.sleep(0.1)
    return Served(process, base_url, workdir, env)


def _spawn(args: list[str], env: dict[str, str], workdir: Path, name: str) -> subprocess.Popen:
    log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 (lives as long as the process)
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
        served.others.append(_spawn([*ILETI, "worker"], served.env, served.workdir, "worker"))
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
