"""The operator's price table for international destinations, over the shipped defaults."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.pricing import DEFAULT_PRICES
from ileti.store.models import CountryPrice, utcnow
from ileti.store.sql import is_postgres

prices = CountryPrice.__table__


async def country_prices(conn: AsyncConnection) -> dict[str, int]:
    """Kuruş per segment by ISO region ("*" for every other country)."""
    table = dict(DEFAULT_PRICES)
    table.update(
        {
            row[0]: row[1]
            for row in await conn.execute(select(prices.c.region, prices.c.kurus_per_segment))
        }
    )
    return table


async def set_price(conn: AsyncConnection, region: str, kurus: int) -> None:
    if kurus < 0:
        raise ValueError("a price cannot be negative")
    insert = pg_insert if is_postgres(conn) else sqlite_insert
    stmt = insert(prices).values(region=region, kurus_per_segment=kurus, updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(
        index_elements=[prices.c.region],
        set_={"kurus_per_segment": kurus, "updated_at": utcnow()},
    )
    await conn.execute(stmt)


async def reset_price(conn: AsyncConnection, region: str) -> bool:
    """Back to the shipped default; False if the operator had not set one."""
    result = await conn.execute(delete(prices).where(prices.c.region == region))
    return bool(result.rowcount)
