"""The operator's price table for international destinations, over the shipped defaults."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.pricing import DEFAULT_PRICES
from ileti.store.sql import Raw

_PRICES = Raw("SELECT region, kurus_per_segment FROM country_prices")
_SET = Raw(
    "INSERT INTO country_prices (region, kurus_per_segment, updated_at) VALUES ($1, $2, $3)"
    " ON CONFLICT (region) DO UPDATE"
    " SET kurus_per_segment = excluded.kurus_per_segment, updated_at = excluded.updated_at"
)
_RESET = Raw("DELETE FROM country_prices WHERE region = $1")


async def country_prices(conn: AsyncConnection) -> dict[str, int]:
    """Kuruş per segment by ISO region ("*" for every other country)."""
    table = dict(DEFAULT_PRICES)
    table.update({row["region"]: row["kurus_per_segment"] for row in await _PRICES.rows(conn)})
    return table


async def set_price(conn: AsyncConnection, region: str, kurus: int, now: datetime) -> None:
    if kurus < 0:
        raise ValueError("a price cannot be negative")
    await _SET.run(conn, region, kurus, now)


async def reset_price(conn: AsyncConnection, region: str) -> bool:
    """Back to the shipped default; False if the operator had not set one."""
    return bool(await _RESET.run(conn, region))
