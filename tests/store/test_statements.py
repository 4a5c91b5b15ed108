"""Every statement the store can run is prepared against the migrated schema, on SQLite and on
PostgreSQL: a column renamed in a model and its migration, but not in a statement, fails here
rather than in production."""

from __future__ import annotations

import importlib
import pkgutil
import re
import sqlite3

import asyncpg
from sqlalchemy.engine import make_url

import ileti.store
from ileti.store.db import Database
from ileti.store.sql import POSTGRES_ONLY, STATEMENTS, Raw, every_statement

_PLACEHOLDER = re.compile(r"\?(\d+)")


def _load_every_store_module() -> None:
    for module in pkgutil.walk_packages(ileti.store.__path__, "ileti.store."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)


def _statements() -> list[Raw]:
    _load_every_store_module()
    return list(every_statement())


def _unprepared_on_sqlite(path: str, statements: list[Raw]) -> list[str]:
    """The statements SQLite cannot compile, with its reason."""
    failed = []
    with sqlite3.connect(path) as conn:
        for statement in statements:
            if statement.sqlite == POSTGRES_ONLY:
                continue
            count = max((int(n) for n in _PLACEHOLDER.findall(statement.sqlite)), default=0)
            try:
                # EXPLAIN compiles the statement and runs nothing of it.
                conn.execute("EXPLAIN " + statement.sqlite, (None,) * count)
            except sqlite3.Error as exc:
                failed.append(f"{exc}: {statement.sqlite}")
    return failed


async def _unprepared_on_postgres(db: Database, statements: list[Raw]) -> list[str]:
    """The statements PostgreSQL cannot parse and plan, with its reason."""
    url = make_url(db.url).set(drivername="postgresql")
    conn = await asyncpg.connect(
        url.render_as_string(hide_password=False),
        server_settings={"search_path": db.schema or "public"},
    )
    failed = []
    try:
        for statement in statements:
            try:
                await conn.prepare(statement.postgres)
            except asyncpg.PostgresError as exc:
                failed.append(f"{exc}: {statement.postgres}")
    finally:
        await conn.close()
    return failed


async def _unprepared(db: Database, statements: list[Raw]) -> list[str]:
    if db.is_postgres:
        return await _unprepared_on_postgres(db, statements)
    path = make_url(db.url).database
    assert path is not None
    return _unprepared_on_sqlite(path, statements)


async def test_every_statement_prepares_against_the_migrated_schema(db: Database) -> None:
    statements = _statements()
    # Every module of the store has its statements here, and every combination of a report's.
    assert len(statements) > 100
    assert await _unprepared(db, statements) == []


async def test_a_statement_that_names_a_missing_column_is_caught(db: Database) -> None:
    renamed = Raw("SELECT id, sent_to FROM messages WHERE id = ANY($1)")
    STATEMENTS.remove(renamed)  # made for this test alone
    [failure] = await _unprepared(db, [renamed])
    assert "sent_to" in failure
