"""Shared fixtures: a migrated database on SQLite and, when configured, on PostgreSQL.

PostgreSQL runs when ``ILETI_TEST_POSTGRES_URL`` is set; every test there gets a schema of its
own, dropped afterwards, so runs and tests never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from ileti.store import migrate
from ileti.store.db import Database
from support.server import ServedGateway, serve_demo

POSTGRES_URL = os.environ.get("ILETI_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("ILETI_TEST_REDIS_URL")
SKIP_POSTGRES = "PostgreSQL tests skipped: set ILETI_TEST_POSTGRES_URL to run them"


def pytest_report_header() -> list[str]:
    return [
        f"postgresql: {'on' if POSTGRES_URL else 'off (ILETI_TEST_POSTGRES_URL not set)'}",
        f"redis: {'on' if REDIS_URL else 'off (ILETI_TEST_REDIS_URL not set)'}",
        f"browser: {os.environ.get('ILETI_TEST_CHROMIUM') or shutil.which('chromium') or 'none'}",
    ]


def pytest_sessionstart(session: pytest.Session) -> None:
    """A server named but out of reach ends the run: its tests must not pass by being skipped."""
    if POSTGRES_URL:
        try:
            asyncio.run(asyncio.wait_for(_execute_autocommit(POSTGRES_URL, "SELECT 1"), 10))
        except Exception as exc:
            pytest.exit(f"ILETI_TEST_POSTGRES_URL is set, PostgreSQL out of reach: {exc!r}", 3)
    chromium = os.environ.get("ILETI_TEST_CHROMIUM")
    if chromium and not os.access(chromium, os.X_OK):
        pytest.exit(f"ILETI_TEST_CHROMIUM is set, no browser at {chromium}", 3)
    if REDIS_URL:
        try:
            asyncio.run(_ping_redis(REDIS_URL))
        except Exception as exc:
            pytest.exit(f"ILETI_TEST_REDIS_URL is set, Redis out of reach: {exc!r}", 3)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    from its first test to the end of the session, where no asyncio test could run."""
    items.sort(key=lambda item: "/web/browser/" in str(item.path))


async def _ping_redis(url: str) -> None:
    client = redis.asyncio.from_url(url, socket_connect_timeout=10)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _execute_autocommit(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


class DatabaseTarget:
    """Where a test's database lives: a SQLite file, or a fresh PostgreSQL schema."""

    def __init__(self, backend: str, url: str, schema: str | None) -> None:
        self.backend = backend
        self.url = url
        self.schema = schema

    def env(self) -> dict[str, str]:
        """Environment for a process that should use this database."""
        env = {"ILETI_DATABASE_URL": self.url}
        if self.schema:
            env["ILETI_DATABASE_SCHEMA"] = self.schema
        return env


@pytest.fixture(autouse=True)
def private_files(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test keeps the installation's private files (the secret key, the demo key) in a
    directory of its own, never in the working directory."""
    monkeypatch.setenv("ILETI_DATA_DIR", str(tmp_path / "private"))


@pytest.fixture(params=["sqlite", "postgres"])
def database_target(request: pytest.FixtureRequest, tmp_path) -> Iterator[DatabaseTarget]:
    if request.param == "sqlite":
        yield DatabaseTarget("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'ileti.db'}", None)
        return
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    schema = f"ileti_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_execute_autocommit(POSTGRES_URL, f'CREATE SCHEMA "{schema}"'))
    try:
        yield DatabaseTarget("postgres", POSTGRES_URL, schema)
    finally:
        asyncio.run(_execute_autocommit(POSTGRES_URL, f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
async def db(database_target: DatabaseTarget) -> AsyncIterator[Database]:
    """A migrated database on each backend."""
    await asyncio.to_thread(migrate.upgrade, database_target.url, database_target.schema)
    database = Database(database_target.url, schema=database_target.schema)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def sqlite_db(tmp_path) -> AsyncIterator[Database]:
    """A migrated SQLite database, for tests whose subject is not storage."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ileti.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    database = Database(url)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedGateway]:
    """``ileti serve --demo`` as a separate process on its own SQLite file."""
    cwd = tmp_path_factory.mktemp("served")
    gateway = serve_demo(cwd, {"ILETI_DATABASE_URL": f"sqlite+aiosqlite:///{cwd / 'ileti.db'}"})
    try:
        yield gateway
    finally:
        gateway.stop()
