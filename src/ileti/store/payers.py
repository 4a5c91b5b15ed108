"""Who pays for an account's messages: the account itself, or, for a reseller's child that
shares its parent's balance, the parent, within the child's daily cap.

A child shares or keeps a balance from its creation on, and never changes parent, so the payer
of a message found when it is refunded is the one that was debited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.schedule import ISTANBUL
from ileti.store.sql import Raw


@dataclass(frozen=True, slots=True)
class Payer:
    """``account_id``'s messages are paid from ``payer_id``'s balances; a shared child spends at
    most ``daily_cap`` credits an Istanbul day (None: no cap)."""

    account_id: int
    payer_id: int
    daily_cap: int | None

    @property
    def shared(self) -> bool:
        return self.payer_id != self.account_id


_PAYERS = Raw(
    "SELECT id, CASE WHEN shared_balance AND parent_id IS NOT NULL THEN parent_id ELSE id END"
    " AS payer_id, CASE WHEN shared_balance THEN daily_cap END AS daily_cap"
    " FROM accounts WHERE id = ANY($1)"
)
# A day's spending goes up only while it stays within the cap; no row back means it would not.
_SPEND = Raw(
    "INSERT INTO daily_spending (account_id, day, credits)"
    " SELECT $1::integer, $2::text, $3::bigint WHERE $3::bigint <= $4::bigint"
    " ON CONFLICT (account_id, day) DO UPDATE SET credits = daily_spending.credits + $3::bigint"
    " WHERE daily_spending.credits + $3::bigint <= $4::bigint RETURNING credits",
    sqlite="INSERT INTO daily_spending (account_id, day, credits) SELECT $1, $2, $3 WHERE $3 <= $4"
    " ON CONFLICT (account_id, day) DO UPDATE SET credits = daily_spending.credits + $3"
    " WHERE daily_spending.credits + $3 <= $4 RETURNING credits",
)
_SPENT = Raw("SELECT credits FROM daily_spending WHERE account_id = $1 AND day = $2")


async def payers(conn: AsyncConnection, account_ids: Iterable[int]) -> dict[int, Payer]:
    return {
        row["id"]: Payer(row["id"], row["payer_id"], row["daily_cap"])
        for row in await _PAYERS.rows(conn, list(set(account_ids)))
    }


def day_of(now: datetime) -> str:
    """The Istanbul day a daily cap counts in."""
    return now.astimezone(ISTANBUL).date().isoformat()


async def spend(conn: AsyncConnection, payer: Payer, credits: int, now: datetime) -> int | None:
    """Count ``credits`` against a capped child's day; None (nothing counted) when they would
    go over the cap, else what the day has spent now."""
    assert payer.daily_cap is not None
    row = await _SPEND.first(conn, payer.account_id, day_of(now), credits, payer.daily_cap)
    return None if row is None else int(row["credits"])


async def spent_today(conn: AsyncConnection, account_id: int, now: datetime) -> int:
    row = await _SPENT.first(conn, account_id, day_of(now))
    return 0 if row is None else int(row["credits"])
