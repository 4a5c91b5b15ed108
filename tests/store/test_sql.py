"""``among`` and ``Raw``: a list of values as one parameter, plain SQL, on each backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ileti.store.db import Database
from ileti.store.models import CountryPrice, PendingReceipt
from ileti.store.sql import Raw, among, moment

pending = PendingReceipt.__table__


async def _fill(db: Database, count: int) -> None:
    async with db.write() as conn:
        await conn.execute(
            insert(pending),
            [
                {
                    "carrier": "sim",
                    "operator_id": f"{n:x}",
                    "candidates": f"{n:x}",
                    "state": "delivered",
                    "error": None,
                    "received_ms": n,
                }
                for n in range(1, count + 1)
            ],
        )


async def test_among_finds_exactly_the_rows_named_by_ints_or_strings(db: Database) -> None:
    await _fill(db, 6_000)
    # More values than SQLite's old limit of 999 placeholders, with repeats and misses.
    wanted = [*range(2, 6_000, 2), 4, 4, 10_000_000]
    names = [*(f"{n:x}" for n in range(3, 6_000, 3)), "nothing", "3"]
    async with db.read() as conn:
        ids = set((await conn.execute(select(pending.c.id))).scalars())
        by_id = set(
            (
                await conn.execute(select(pending.c.id).where(among(conn, pending.c.id, wanted)))
            ).scalars()
        )
        by_name = set(
            (
                await conn.execute(
                    select(pending.c.operator_id).where(among(conn, pending.c.operator_id, names))
                )
            ).scalars()
        )
        none = (await conn.execute(select(pending.c.id).where(among(conn, pending.c.id, [])))).all()
    assert by_id == {n for n in wanted if n in ids}
    assert by_name == {f"{n:x}" for n in range(3, 6_000, 3)}
    assert none == []


prices = CountryPrice.__table__
_PUT = Raw("INSERT INTO country_prices (region, kurus_per_segment, updated_at) VALUES ($1, $2, $3)")
_AMONG = Raw(
    "SELECT region, kurus_per_segment, updated_at FROM country_prices"
    " WHERE region = ANY($1) ORDER BY region"
)
_RAISE = Raw(
    "UPDATE country_prices SET kurus_per_segment = kurus_per_segment + $2 WHERE region = $1"
)


async def test_raw_statements_round_trip_lists_and_times_as_sqlalchemy_reads_them(
    db: Database,
) -> None:
    when = datetime(2026, 3, 29, 0, 30, 15, 250, tzinfo=timezone(timedelta(hours=3)))
    async with db.write() as conn:
        await _PUT.run_many(conn, [("X1", 10, when), ("X2", 20, when), ("X3", 30, when)])
        assert await _RAISE.run(conn, "X2", 5) == 1
        assert await _RAISE.run(conn, "X9", 5) == 0
    async with db.read() as conn:
        rows = await _AMONG.rows(conn, ["X3", "X2", "X9", "X2"])
        empty = await _AMONG.rows(conn, [])
        read_back = (
            await conn.execute(select(prices.c.updated_at).where(prices.c.region == "X1"))
        ).scalar_one()
    assert [(region, price) for region, price, _ in rows] == [("X2", 25), ("X3", 30)]
    assert {moment(updated) for _, _, updated in rows} == {when}
    assert moment(rows[0][2]).tzinfo is not None
    assert read_back == when
    assert empty == []


async def test_a_failing_raw_statement_raises_sqlalchemys_error_and_undoes_its_transaction(
    db: Database,
) -> None:
    now = datetime.now(UTC)
    with pytest.raises(IntegrityError):
        async with db.write() as conn:
            await _PUT.run(conn, "X4", 1, now)
            await conn.execute(insert(prices).values(region="X5", kurus_per_segment=1))
            await _PUT.run(conn, "X4", 2, now)
    async with db.read() as conn:
        assert await _AMONG.rows(conn, ["X4", "X5"]) == []
