"""Reading an account's credit ledger a page at a time, the newest entry first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.pricing import Balance
from ileti.store.sql import Composed, reader


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    id: int
    balance: str  # "main" (credits) or "international" (kuruş)
    amount: int
    balance_after: int
    kind: str
    reference: str
    note: str | None
    created_at: datetime


_record = reader(LedgerRecord)
# Walks the (account_id, id) index backwards from where the last page ended.
_PAGE = Composed(
    "SELECT id, balance, amount, balance_after, kind, reference, note, created_at"
    " FROM credit_ledger WHERE account_id = $1",
    {"balance": "balance = {}", "before": "id < {}"},
    "ORDER BY id DESC LIMIT {0}",
    fixed=1,
)


async def page(
    conn: AsyncConnection,
    account_id: int,
    *,
    limit: int,
    balance: Balance | None = None,
    before: int | None = None,
) -> tuple[list[LedgerRecord], int | None]:
    """Up to ``limit`` entries (of one balance, if given) with ids below ``before``, and
    where the next page starts (None on the last)."""
    statement, values = _PAGE.bind(
        {"balance": balance.value if balance else None, "before": before}
    )
    rows = await statement.rows(conn, account_id, *values, limit + 1)
    entries = [_record(row) for row in rows[:limit]]
    return entries, entries[-1].id if len(rows) > limit else None
