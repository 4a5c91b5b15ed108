"""SQL shapes both databases share, written the way each runs fastest."""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from sqlalchemy import ColumnElement, Table, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection


def is_postgres(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


def among(conn: AsyncConnection, column: ColumnElement[Any], values: Collection[Any]) -> Any:
    """``column IN values`` with the values as one parameter.

    A plain IN list is rendered again on every call, a placeholder per value (with a cast per
    value for asyncpg): for the hundreds of ids a dispatch batch names, that took a tenth of a
    worker's CPU. PostgreSQL takes an array (``= ANY``), SQLite a JSON array (``json_each``);
    the statement stays the same whatever the number of values, and is compiled once.
    """
    if is_postgres(conn):
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(
        select(literal_column("value")).select_from(
            func.json_each(bindparam(None, orjson.dumps(list(values)).decode()))
        )
    )


_PLACEHOLDER = re.compile(r"\$(\d+)")
_ANY = re.compile(r"= ANY\((\$\d+)\)")


class Raw:
    """One statement in plain SQL, run on the driver's own connection.

    SQLAlchemy's work around a statement (its cache key, the parameters' and the rows'
    processing, the result object) costs 25 to 250 µs a call; on SQLite the statement itself
    often takes 2. The statements that every message passes through several times (accepting,
    dispatching, receipts) are written this way; the rest stay SQLAlchemy Core.

    The text is PostgreSQL's: ``$1, $2 …`` placeholders and ``col = ANY($n)`` for a list,
    rewritten for SQLite as ``?n`` and a ``json_each`` over the list. A list or set parameter
    is passed as an array (a JSON array on SQLite), a datetime as SQLAlchemy stores it.
    Rows come back as the driver gives them: read times with ``moment``.

    It runs inside the caller's transaction (``Database.write`` begins it on the server at
    once, so that no statement escapes it); errors are raised as SQLAlchemy's.
    """

    __slots__ = ("postgres", "sqlite")

    def __init__(self, postgres: str, *, sqlite: str | None = None) -> None:
        self.postgres = postgres
        sqlite = sqlite if sqlite is not None else postgres
        sqlite = _ANY.sub(r"IN (SELECT value FROM json_each(\1))", sqlite)
        self.sqlite = _PLACEHOLDER.sub(r"?\1", sqlite)

    async def rows(self, conn: AsyncConnection, *params: Any) -> list[Sequence[Any]]:
        driver = driver_of(conn)
        try:
            if isinstance(driver, asyncpg.Connection):
                return await driver.fetch(self.postgres, *map(_postgres_value, params))
            await driver.idle()
            return driver.run(self.sqlite, tuple(map(_sqlite_value, params))).fetchall()
        except (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise _translated(exc, self.postgres) from exc

    async def run(self, conn: AsyncConnection, *params: Any) -> int:
        """Runs it; the number of rows it changed."""
        driver = driver_of(conn)
        try:
            if isinstance(driver, asyncpg.Connection):
                status = await driver.execute(self.postgres, *map(_postgres_value, params))
                count = status.rpartition(" ")[2]
                return int(count) if count.isdigit() else 0
            await driver.idle()
            return driver.run(self.sqlite, tuple(map(_sqlite_value, params))).rowcount
        except (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise _translated(exc, self.postgres) from exc

    async def run_many(
        self, conn: AsyncConnection, rows: Iterable[Sequence[Any]], *, converted: bool = False
    ) -> None:
        """Runs it once per row of parameters; ``converted``: the rows hold no list, and on
        SQLite their times are text already (a big group's rows are not looked at again)."""
        driver = driver_of(conn)
        try:
            if isinstance(driver, asyncpg.Connection):
                if not converted:
                    rows = [tuple(map(_postgres_value, row)) for row in rows]
                await driver.executemany(self.postgres, rows)
                return
            await driver.idle()
            if not converted:
                rows = [tuple(map(_sqlite_value, row)) for row in rows]
            driver.run_many(self.sqlite, rows)
        except (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise _translated(exc, self.postgres) from exc


class Rows:
    """An INSERT of many rows into some columns of a table.

    PostgreSQL takes them as one array per column in one statement (``unnest``): row by row,
    each row is bound, planned and run on its own, and the driver sends a message per row (a
    batch of single sends writes four tables; per message, the API process spent 182-193 µs
    of CPU and PostgreSQL 191-197 µs that way, 170-174 and 157 µs this way). SQLite runs the
    statement once per row, which on its in-process engine costs next to nothing.
    """

    __slots__ = ("_statement",)

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        names = ", ".join(columns)
        arrays = ", ".join(
            f"${n}::{table.c[name].type.compile(dialect=_POSTGRES)}[]"
            for n, name in enumerate(columns, start=1)
        )
        placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        self._statement = Raw(
            f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays})",
            sqlite=f"INSERT INTO {table.name} ({names}) VALUES ({placeholders})",
        )

    async def insert(
        self, conn: AsyncConnection, rows: Sequence[Sequence[Any]], *, converted: bool = False
    ) -> None:
        """``converted``: on SQLite, the rows' times are text already."""
        if not rows:
            return
        if is_postgres(conn):
            await self._statement.run(conn, *map(list, zip(*rows, strict=True)))
        else:
            await self._statement.run_many(conn, rows, converted=converted)


_POSTGRES = postgresql.dialect()


def driver_of(conn: AsyncConnection) -> Any:
    """The driver's connection under ``conn``: asyncpg's, or the inline SQLite one."""
    return conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]


def _postgres_value(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return list(value)
    return value


# Values SQLite takes as they are: most parameters, checked before anything slower.
_SQLITE_PLAIN = frozenset({int, str, float, bytes, bool, type(None)})


def _sqlite_value(value: Any) -> Any:
    if type(value) in _SQLITE_PLAIN:
        return value
    if isinstance(value, list | set | frozenset):
        return orjson.dumps(list(value)).decode()
    if isinstance(value, datetime):
        return sqlite_time(value)
    return value


def _translated(exc: Exception, statement: str) -> DBAPIError:
    # Parameters stay out of the error: they may hold a number or a code.
    if isinstance(exc, sqlite3.IntegrityError | asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(statement, None, exc)
    if isinstance(exc, sqlite3.OperationalError | asyncpg.InterfaceError):
        return OperationalError(statement, None, exc)
    return DBAPIError(statement, None, exc)


# A batch's rows share their times (its ``now``): each is formatted once.
@functools.lru_cache(maxsize=256)
def sqlite_time(moment: datetime) -> str:
    """The form SQLAlchemy writes for DATETIME on SQLite: naive UTC, microseconds always."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # "YYYY-MM-DD HH:MM:SS.ffffff" and the offset, which is cut off.
    return moment.isoformat(" ", "microseconds")[:26]


def moment(value: datetime | str | None) -> datetime | None:
    """A time read by a ``Raw`` statement, as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
