"""Statements in plain SQL, and the connectors that run them on either database.

Every statement the gateway runs is written out in ``store/``, next to the code that uses it,
as PostgreSQL's text (``$1, $2 …`` placeholders, ``col = ANY($n)`` for a list); SQLite gets the
same text rewritten (``?n``, a ``json_each`` over the list), or a text of its own where the two
need different SQL, given beside it. A connector per database is the one place that knows its
driver: it runs a statement on the driver's own connection inside the caller's transaction,
passes values the way its database takes them, and raises errors as SQLAlchemy's.

SQLAlchemy stays for the engine, its pool and transactions, the models and the migrations; its
work around a statement (its cache key, the parameters' and the rows' processing, the result
object) cost 25 to 250 µs a call where SQLite's own work is often 2, so no statement goes
through it. Every statement made here is listed in ``STATEMENTS``, and a test prepares each
one on both databases: a column renamed in a model and its migration fails the suite.

Rows come back as the driver gives them, readable by column name (``row["id"]``) or position;
``reader`` makes a dataclass or a named tuple of one, each field from the column of its name.
"""

from __future__ import annotations

import functools
import itertools
import re
import sqlite3
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import asyncpg
import orjson
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection


class Row(Protocol):
    """A row as either driver gives it: by column name or by position."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


# Every statement, in the order they were made: the test that prepares them reads this.
STATEMENTS: list[Raw] = []

_PLACEHOLDER = re.compile(r"\$(\d+)")
_ANY = re.compile(r"= ANY\((\$\d+)\)")


def _sqlite_text(postgres: str) -> str:
    return _PLACEHOLDER.sub(r"?\1", _ANY.sub(r"IN (SELECT value FROM json_each(\1))", postgres))


# The SQLite text of a statement that only PostgreSQL runs (its upkeep, its locks).
POSTGRES_ONLY = ""


class Raw:
    """One statement: PostgreSQL's text, and SQLite's (the same, rewritten, unless given)."""

    __slots__ = ("postgres", "sqlite")

    def __init__(self, postgres: str, *, sqlite: str | None = None) -> None:
        self.postgres = postgres
        self.sqlite = _sqlite_text(sqlite if sqlite is not None else postgres)
        STATEMENTS.append(self)

    async def rows(self, conn: AsyncConnection, *params: Any) -> list[Row]:
        return await connector_of(conn).fetch(conn, self, params)

    async def first(self, conn: AsyncConnection, *params: Any) -> Row | None:
        rows = await connector_of(conn).fetch(conn, self, params)
        return rows[0] if rows else None

    async def run(self, conn: AsyncConnection, *params: Any) -> int:
        """Runs it; the number of rows it changed."""
        return await connector_of(conn).execute(conn, self, params)


class Batch(Raw):
    """One statement over many rows of values, and values all rows share.

    PostgreSQL takes the rows as one array per column in one statement (``unnest``): row by
    row, each is bound, planned and run on its own, and the driver sends a message per row (a
    batch of single sends writes four tables; per message, the API process spent 182-193 µs of
    CPU and PostgreSQL 191-197 µs that way, 170-174 and 157 µs this way). SQLite runs its text
    once per row, which on its in-process engine costs next to nothing. In both texts the
    rows' columns are ``$1 … $k`` and the shared values follow.
    """

    __slots__ = ()

    async def run_rows(
        self,
        conn: AsyncConnection,
        rows: Sequence[Sequence[Any]],
        *shared: Any,
        converted: bool = False,
    ) -> None:
        """``converted``: on SQLite, the rows hold no list and their times are text already
        (a big group's rows are not looked at again)."""
        if rows:
            await connector_of(conn).execute_rows(conn, self, rows, shared, converted)


class Insert(Batch):
    """An INSERT of many rows into some columns of a table (see ``Batch``).

    With ``copy``, PostgreSQL takes a hundred rows or more by COPY: a group of 100,000
    messages as one stream, not as arrays that the server unpacks.
    """

    __slots__ = ("columns", "copy", "table")

    def __init__(self, table: Table, columns: Sequence[str], *, copy: bool = False) -> None:
        names = ", ".join(columns)
        arrays = ", ".join(
            f"${n}::{table.c[name].type.compile(dialect=_POSTGRES)}[]"
            for n, name in enumerate(columns, start=1)
        )
        placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        super().__init__(
            f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays})",
            sqlite=f"INSERT INTO {table.name} ({names}) VALUES ({placeholders})",
        )
        self.table = table.name
        self.columns = tuple(columns)
        self.copy = copy


# From this many rows, an ``Insert(…, copy=True)`` goes to PostgreSQL by COPY.
COPY_FROM = 100


def together(first: Insert, then: Insert) -> Raw:
    """Two inserts in one statement on PostgreSQL, one round trip: run with ``first``'s columns
    (``$1 … $k``) then ``then``'s, as arrays. For rows below ``COPY_FROM``; SQLite, whose round
    trips cost nothing, runs the two."""
    shift = len(first.columns)
    later = re.sub(r"\$(\d+)", lambda number: f"${int(number[1]) + shift}", then.postgres)
    return Raw(f"WITH first AS ({first.postgres}) {later}", sqlite=POSTGRES_ONLY)


def columns_of(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Rows as one list per column, the form ``unnest`` takes them in."""
    return [list(column) for column in zip(*rows, strict=True)]


class Composed:
    """A statement whose conditions depend on what the caller asks for: a report's filters.

    ``head`` ends with the conditions every call has, using ``$1 … $fixed``; each optional
    condition given is ANDed on with the next placeholder (``{}`` in its text), and ``tail``
    (a GROUP BY, an ORDER BY, a LIMIT) takes the placeholders after them, as ``{0}``, ``{1}``.
    One ``Raw`` per combination, made on first use; ``every`` makes them all, for the test that
    prepares every statement.
    """

    def __init__(
        self,
        head: str,
        conditions: Mapping[str, str],
        tail: str = "",
        *,
        fixed: int,
        sqlite_head: str | None = None,
    ) -> None:
        self._heads = (head, sqlite_head if sqlite_head is not None else head)
        self._conditions = dict(conditions)
        self._tail = tail
        self._fixed = fixed
        self._made: dict[tuple[str, ...], Raw] = {}
        COMPOSED.append(self)

    def bind(self, given: Mapping[str, Any]) -> tuple[Raw, list[Any]]:
        """The statement for the conditions given a value (None leaves one out), and those
        values in the order its placeholders take them."""
        present = tuple(name for name in self._conditions if given.get(name) is not None)
        return self._statement(present), [given[name] for name in present]

    def _statement(self, present: tuple[str, ...]) -> Raw:
        made = self._made.get(present)
        if made is None:
            made = self._made[present] = self._make(present)
        return made

    def every(self) -> Iterator[Raw]:
        names = list(self._conditions)
        for size in range(len(names) + 1):
            for present in itertools.combinations(names, size):
                yield self._statement(present)

    def _make(self, present: tuple[str, ...]) -> Raw:
        number = self._fixed
        clauses = []
        for name in present:
            number += 1
            clauses.append(self._conditions[name].format(f"${number}"))
        tail = self._tail.format(*(f"${n}" for n in range(number + 1, number + 4)))
        postgres, sqlite = (" AND ".join([head, *clauses]) + " " + tail for head in self._heads)
        return Raw(postgres.strip(), sqlite=sqlite.strip())


COMPOSED: list[Composed] = []


def every_statement() -> Iterator[Raw]:
    """Every statement the store can run: those made at import, and every combination of
    each composed one."""
    composed = [statement for family in COMPOSED for statement in family.every()]
    yield from dict.fromkeys([*STATEMENTS, *composed])


# Connectors.


class Connector(Protocol):
    """What the store asks of a database's driver."""

    name: str

    async def fetch(self, conn: AsyncConnection, stmt: Raw, params: Sequence[Any]) -> list[Row]: ...

    async def execute(self, conn: AsyncConnection, stmt: Raw, params: Sequence[Any]) -> int: ...

    async def execute_rows(
        self,
        conn: AsyncConnection,
        stmt: Batch,
        rows: Sequence[Sequence[Any]],
        shared: Sequence[Any],
        converted: bool,
    ) -> None: ...

    def stamp(self, moment: datetime) -> Any:
        """A time as this database takes it in rows that are passed ``converted``."""
        ...

    async def lock(self, conn: AsyncConnection, space: int, key: int) -> None:
        """Serialise the transactions that take this lock until they end."""
        ...


class _Postgres:
    name = "postgresql"

    async def fetch(self, conn: AsyncConnection, stmt: Raw, params: Sequence[Any]) -> list[Row]:
        try:
            rows: list[Row] = await driver_of(conn).fetch(
                stmt.postgres, *map(_postgres_value, params)
            )
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise _translated(exc, stmt.postgres) from exc
        return rows

    async def execute(self, conn: AsyncConnection, stmt: Raw, params: Sequence[Any]) -> int:
        try:
            status = await driver_of(conn).execute(stmt.postgres, *map(_postgres_value, params))
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise _translated(exc, stmt.postgres) from exc
        count = status.rpartition(" ")[2]
        return int(count) if count.isdigit() else 0

    async def execute_rows(
        self,
        conn: AsyncConnection,
        stmt: Batch,
        rows: Sequence[Sequence[Any]],
        shared: Sequence[Any],
        converted: bool,
    ) -> None:
        driver = driver_of(conn)
        try:
            if isinstance(stmt, Insert) and stmt.copy and len(rows) >= COPY_FROM:
                await driver.copy_records_to_table(stmt.table, records=rows, columns=stmt.columns)
                return
            columns = columns_of(rows)
            if not converted:
                columns = [list(map(_postgres_value, column)) for column in columns]
            await driver.execute(stmt.postgres, *columns, *map(_postgres_value, shared))
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise _translated(exc, stmt.postgres) from exc

    def stamp(self, moment: datetime) -> Any:
        return moment

    async def lock(self, conn: AsyncConnection, space: int, key: int) -> None:
        await self.fetch(conn, _LOCK, (space, key))


class _Sqlite:
    name = "sqlite"

    async def fetch(self, conn: AsyncConnection, stmt: Raw, params: Sequence[Any]) -> list[Row]:
        try:
            return await driver_of(conn).raw_rows(stmt.sqlite, tuple(map(_sqlite_value, params)))
        except sqlite3.Error as exc:
            raise _translated(exc, stmt.postgres) from exc

    async def execute(self, conn: AsyncConnection, stmt: Raw, params: Sequence[Any]) -> int:
        try:
            return await driver_of(conn).raw_count(stmt.sqlite, tuple(map(_sqlite_value, params)))
        except sqlite3.Error as exc:
            raise _translated(exc, stmt.postgres) from exc

    async def execute_rows(
        self,
        conn: AsyncConnection,
        stmt: Batch,
        rows: Sequence[Sequence[Any]],
        shared: Sequence[Any],
        converted: bool,
    ) -> None:
        each: Sequence[Sequence[Any]] = rows
        if not converted:
            each = [tuple(map(_sqlite_value, row)) for row in rows]
        if shared:
            tail = tuple(map(_sqlite_value, shared))
            each = [(*row, *tail) for row in each]
        driver = driver_of(conn)
        try:
            if isinstance(stmt, Insert) and len(each) > 1:
                per = min(_ROWS_PER_INSERT, _SQLITE_PARAMETERS // len(stmt.columns))
                for start in range(0, len(each), per):
                    chunk = each[start : start + per]
                    values = [value for row in chunk for value in row]
                    await driver.raw_count(_values_insert(stmt, len(chunk)), values)
            else:
                await driver.raw_each(stmt.sqlite, each)
        except sqlite3.Error as exc:
            raise _translated(exc, stmt.postgres) from exc

    def stamp(self, moment: datetime) -> Any:
        return sqlite_time(moment)

    async def lock(self, conn: AsyncConnection, space: int, key: int) -> None:
        # A write transaction holds SQLite's one write lock: it is serial already.
        return None


# Rows per INSERT on SQLite: one statement of many rows costs less than as many statements of
# one, the more so on a table with a trigger (SQLite opens a statement journal for each
# statement that fires one: 100,000 messages took 1.3 s one by one, 0.6 s by 500), within
# SQLite's bound on the parameters of one statement.
_ROWS_PER_INSERT = 500
_SQLITE_PARAMETERS = 32_766


@functools.lru_cache(maxsize=512)
def _values_insert(stmt: Insert, count: int) -> str:
    row = "(" + ", ".join("?" * len(stmt.columns)) + ")"
    return f"INSERT INTO {stmt.table} ({', '.join(stmt.columns)}) VALUES " + ", ".join(
        [row] * count
    )


_CONNECTORS: dict[str, Connector] = {"postgresql": _Postgres(), "sqlite": _Sqlite()}
_LOCK = Raw("SELECT pg_advisory_xact_lock($1, $2)", sqlite=POSTGRES_ONLY)


def connector_of(conn: AsyncConnection) -> Connector:
    return _CONNECTORS[conn.dialect.name]


def by_dialect(conn: AsyncConnection, choices: Mapping[str, Any]) -> Any:
    """The one of ``choices`` (keyed "postgresql", "sqlite") for this connection's database."""
    return choices[conn.dialect.name]


def driver_of(conn: AsyncConnection) -> Any:
    """The driver's connection under ``conn``: asyncpg's, or the inline SQLite one."""
    sync = conn.sync_connection
    assert sync is not None, "the connection is closed"
    return sync.connection.driver_connection


_POSTGRES = postgresql.dialect()


def _postgres_value(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return list(value)
    return value


# Values SQLite takes as they are: most parameters, checked before anything slower.
_SQLITE_PLAIN = frozenset({int, str, float, bytes, bool, type(None)})


def _sqlite_value(value: Any) -> Any:
    if type(value) in _SQLITE_PLAIN:
        return value
    if isinstance(value, list | set | frozenset | tuple):
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


def moment(value: datetime | str) -> datetime:
    """A time read by a statement, as an aware UTC datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def maybe_moment(value: datetime | str | None) -> datetime | None:
    return None if value is None else moment(value)


T = TypeVar("T")


def reader(cls: type[T]) -> Callable[[Row], T]:
    """What makes a ``cls`` (a dataclass or a named tuple) of a row: each field read from the
    column of its name, times and flags as the field's type says (SQLite gives times as text and
    flags as 0 or 1)."""
    # A dataclass's or named tuple's annotations are its fields, in their order.
    hints = typing.get_type_hints(cls)
    steps = [(name, _READ_AS.get(hint)) for name, hint in hints.items()]
    make: Callable[..., T] = cls

    def read(row: Row) -> T:
        return make(*[row[n] if convert is None else convert(row[n]) for n, convert in steps])

    return read


def json_value(value: str | bytes | Any) -> Any:
    """A JSON column as read: both drivers give its text."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


_READ_AS: dict[Any, Callable[[Any], Any]] = {
    datetime: moment,
    datetime | None: maybe_moment,
    bool: bool,
}


def json_text(value: Any) -> str:
    """A value for a JSON column: both databases take its text."""
    return orjson.dumps(value).decode()
