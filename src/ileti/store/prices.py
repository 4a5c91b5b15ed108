"""Prices for international destinations: the operator's table over the shipped defaults, and
an account's own over both."""

from __future__ import annotations

from collections.abc import Mapping
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


# Prices of one account, over the installation's: an operator's deal with a customer, or a
# reseller's with its own customers (never below what the reseller pays itself).
_OWN = Raw("SELECT region, kurus FROM account_prices WHERE account_id = $1")
_SET_OWN = Raw(
    "INSERT INTO account_prices (account_id, region, kurus) VALUES ($1, $2, $3)"
    " ON CONFLICT (account_id, region) DO UPDATE SET kurus = excluded.kurus"
)
_RESET_OWN = Raw("DELETE FROM account_prices WHERE account_id = $1 AND region = $2")
# Each account asked for with its parent, and the prices of both (none: no rows of prices).
_OWN_AND_PARENTS = Raw(
    "SELECT a.id, a.parent_id, p.account_id AS owner, p.region, p.kurus FROM accounts AS a"
    " LEFT JOIN account_prices AS p ON p.account_id IN (a.id, a.parent_id)"
    " WHERE a.id = ANY($1)"
)


def price_in(table: Mapping[str, int], region: str) -> int:
    """What ``table`` charges a segment to ``region``: its own price, else ``*``'s."""
    return table.get(region, table["*"])


def effective_prices(
    installation: Mapping[str, int],
    own: Mapping[str, int],
    parent_own: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """An account's table: its own prices over its parent's over the installation's. A child
    never pays less than its parent for any country, so a reseller cannot send through its
    customer for less; that holds even after the parent's price went up."""
    if parent_own is None:
        return {**installation, **own}
    floor = {**installation, **parent_own}
    table = dict(floor)
    for region, kurus in own.items():
        table[region] = max(kurus, price_in(floor, region))
    return table


async def own_prices(conn: AsyncConnection, account_id: int) -> dict[str, int]:
    """The prices set for the account itself, by region."""
    return {row["region"]: row["kurus"] for row in await _OWN.rows(conn, account_id)}


async def set_own_price(conn: AsyncConnection, account_id: int, region: str, kurus: int) -> None:
    if kurus < 0:
        raise ValueError("a price cannot be negative")
    await _SET_OWN.run(conn, account_id, region, kurus)


async def reset_own_price(conn: AsyncConnection, account_id: int, region: str) -> bool:
    """Back to the price it inherits; False if it had none of its own."""
    return bool(await _RESET_OWN.run(conn, account_id, region))


async def prices_for(conn: AsyncConnection, account_ids: set[int]) -> dict[int, dict[str, int]]:
    """Each account's effective table (``effective_prices``): kuruş a segment by region, ``*``
    for every other country. An id that names no account is left out."""
    installation = await country_prices(conn)
    parents: dict[int, int | None] = {}
    prices: dict[int, dict[str, int]] = {}
    for row in await _OWN_AND_PARENTS.rows(conn, account_ids):
        parents[row["id"]] = row["parent_id"]
        if row["owner"] is not None:
            prices.setdefault(row["owner"], {})[row["region"]] = row["kurus"]
    return {
        account_id: effective_prices(
            installation,
            prices.get(account_id, {}),
            None if parent_id is None else prices.get(parent_id, {}),
        )
        for account_id, parent_id in parents.items()
    }
