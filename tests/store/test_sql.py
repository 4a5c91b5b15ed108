"""``among``: a list of values as one parameter, on each backend."""

from __future__ import annotations

from sqlalchemy import insert, select

from ileti.store.db import Database
from ileti.store.models import PendingReceipt
from ileti.store.sql import among

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
