"""Statements in plain SQL (``Raw``, ``Batch``, ``Insert``, ``Composed``) on each backend: a
list of values as one parameter, rows of values, times, errors and rows read by column name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ileti.store.db import Database
from ileti.store.models import CountryPrice, PendingReceipt, table_of
from ileti.store.sql import Batch, Composed, Insert, Raw, moment

pending = table_of(PendingReceipt)
prices = table_of(CountryPrice)

_RECEIPTS = Insert(
    pending,
    ("carrier", "operator_id", "candidates", "state", "error", "received_ms"),
    copy=True,
)
_BY_ID = Raw("SELECT id FROM pending_receipts WHERE id = ANY($1)")
_BY_OPERATOR_ID = Raw(
    "SELECT operator_id, state FROM pending_receipts WHERE carrier = $1 AND operator_id = ANY($2)"
)


async def _receipts(db: Database, count: int) -> None:
    async with db.write() as conn:
        await _RECEIPTS.run_rows(
            conn, [("sim", f"{n:x}", f"{n:x}", "delivered", None, n) for n in range(1, count + 1)]
        )


async def test_a_list_parameter_finds_exactly_the_rows_named_by_ints_or_strings(
    db: Database,
) -> None:
    await _receipts(db, 6_000)
    # More values than SQLite's old limit of 999 placeholders, with repeats and misses.
    wanted = [*range(2, 6_000, 2), 4, 4, 10_000_000]
    names = [*(f"{n:x}" for n in range(3, 6_000, 3)), "nothing", "3", "3"]
    async with db.read() as conn:
        ids = set((await conn.execute(select(pending.c.id))).scalars())
        by_id = [row["id"] for row in await _BY_ID.rows(conn, wanted)]
        by_name = await _BY_OPERATOR_ID.rows(conn, "sim", names)
        elsewhere = await _BY_OPERATOR_ID.rows(conn, "other", names)
        none = await _BY_ID.rows(conn, [])
    assert len(ids) == 6_000
    # Each row once, however often the list names it.
    assert sorted(by_id) == sorted({n for n in wanted if n in ids})
    assert sorted(row["operator_id"] for row in by_name) == sorted(
        f"{n:x}" for n in range(3, 6_000, 3)
    )
    assert {row["state"] for row in by_name} == {"delivered"}
    assert elsewhere == [] and none == []


_PUT = Insert(prices, ("region", "kurus_per_segment", "updated_at"))
_PUT_ONE = Raw(
    "INSERT INTO country_prices (region, kurus_per_segment, updated_at) VALUES ($1, $2, $3)"
)
_AMONG = Raw(
    "SELECT region, kurus_per_segment, updated_at FROM country_prices"
    " WHERE region = ANY($1) ORDER BY region"
)
# Rows of (region, amount); then the time and the regions that may change, which all rows share.
_RAISE = Batch(
    "UPDATE country_prices AS p SET kurus_per_segment = p.kurus_per_segment + w.amount,"
    " updated_at = $3 FROM unnest($1::varchar[], $2::int[]) AS w(region, amount)"
    " WHERE p.region = w.region AND p.region = ANY($4)",
    sqlite="UPDATE country_prices SET kurus_per_segment = kurus_per_segment + $2,"
    " updated_at = $3 WHERE region = $1 AND region = ANY($4)",
)
_RAISE_ONE = Raw(
    "UPDATE country_prices SET kurus_per_segment = kurus_per_segment + $2 WHERE region = $1"
)


async def test_rows_of_values_round_trip_lists_and_times_as_sqlalchemy_reads_them(
    db: Database,
) -> None:
    when = datetime(2026, 3, 29, 0, 30, 15, 250, tzinfo=timezone(timedelta(hours=3)))
    later = when + timedelta(days=1, microseconds=1)
    async with db.write() as conn:
        await _PUT.run_rows(conn, [("X1", 10, when), ("X2", 20, when), ("X3", 30, when)])
        # X1 is not among the regions that may change, and no row names X9.
        await _RAISE.run_rows(conn, [("X1", 1), ("X2", 5), ("X9", 5)], later, ["X2", "X3", "X9"])
        assert await _RAISE_ONE.run(conn, "X3", 2) == 1
        assert await _RAISE_ONE.run(conn, "X9", 2) == 0
    async with db.read() as conn:
        rows = await _AMONG.rows(conn, ["X3", "X2", "X1", "X9", "X2"])
        empty = await _AMONG.rows(conn, [])
        read_back = {
            region: updated
            for region, updated in await conn.execute(select(prices.c.region, prices.c.updated_at))
        }
    assert [(row["region"], row["kurus_per_segment"]) for row in rows] == [
        ("X1", 10),
        ("X2", 25),
        ("X3", 32),
    ]
    assert {row["region"]: moment(row["updated_at"]) for row in rows} == {
        "X1": when,
        "X2": later,
        "X3": when,
    }
    assert all(moment(row["updated_at"]).tzinfo is not None for row in rows)
    assert read_back == {"X1": when, "X2": later, "X3": when}
    assert empty == []


async def test_rows_read_by_column_name_or_in_order(db: Database) -> None:
    async with db.write() as conn:
        await _PUT_ONE.run(conn, "X1", 10, datetime.now(UTC))
    async with db.read() as conn:
        [row] = await _AMONG.rows(conn, ["X1"])
        first = await _AMONG.first(conn, ["X1"])
        missing = await _AMONG.first(conn, ["X9"])
    assert (row["region"], row["kurus_per_segment"]) == ("X1", 10)
    assert tuple(row)[:2] == ("X1", 10) and len(row) == 3
    assert first is not None and first["region"] == "X1"
    assert missing is None


async def test_a_failing_statement_raises_sqlalchemys_error_and_undoes_its_transaction(
    db: Database,
) -> None:
    now = datetime.now(UTC)
    with pytest.raises(IntegrityError):
        async with db.write() as conn:
            await _PUT_ONE.run(conn, "X4", 1, now)
            await conn.execute(insert(prices).values(region="X5", kurus_per_segment=1))
            await _PUT.run_rows(conn, [("X6", 1, now)])
            await _PUT_ONE.run(conn, "X4", 2, now)
    with pytest.raises(IntegrityError):
        async with db.write() as conn:
            await _PUT.run_rows(conn, [("X7", 1, now), ("X7", 2, now)])
    async with db.read() as conn:
        assert await _AMONG.rows(conn, ["X4", "X5", "X6", "X7"]) == []


_FILTERED = Composed(
    "SELECT region FROM country_prices WHERE kurus_per_segment >= $1",
    {"region": "region = {}", "since": "updated_at >= {}"},
    "ORDER BY region LIMIT {0}",
    fixed=1,
)


async def test_composed_statements_leave_out_the_conditions_given_none(db: Database) -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    async with db.write() as conn:
        await _PUT.run_rows(
            conn,
            [("X1", 10, start), ("X2", 20, start + timedelta(hours=1)), ("X3", 30, start)],
        )

    async def regions(limit: int = 10, **given: object) -> list[str]:
        statement, values = _FILTERED.bind(given)
        async with db.read() as conn:
            return [row["region"] for row in await statement.rows(conn, 15, *values, limit)]

    assert await regions() == ["X2", "X3"]
    assert await regions(region=None, since=None) == ["X2", "X3"]
    assert await regions(region="X3") == ["X3"]
    assert await regions(since=start + timedelta(minutes=1)) == ["X2"]
    assert await regions(region="X3", since=start + timedelta(minutes=1)) == []
    assert await regions(limit=1, region=None) == ["X2"]
    # Only the conditions given a value are bound, in the statement's order.
    _, values = _FILTERED.bind({"since": start, "region": "X1"})
    assert values == ["X1", start]
    assert _FILTERED.bind({"region": None, "since": None}) == (_FILTERED.bind({})[0], [])
