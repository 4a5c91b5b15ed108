"""The credit ledger: every balance change is one append-only entry recording the balance after it.

The balance update and the entry commit together. The update is conditional (never below zero)
and takes the row lock on PostgreSQL, so concurrent postings to one account serialise there; on
SQLite the single writer does the same. A second entry with the same reference and kind violates
a unique constraint, which rolls back the balance update with it: nothing is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.store.models import Account, LedgerEntry, utcnow

accounts = Account.__table__
ledger = LedgerEntry.__table__


class Balance(StrEnum):
    MAIN = "main"
    INTERNATIONAL = "international"


class EntryKind(StrEnum):
    TOPUP = "topup"
    DEBIT = "debit"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"


class InsufficientBalance(Exception):
    pass


class DuplicateEntry(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Posting:
    balance_after: int
    entry_id: int


def _column(balance: Balance):
    return accounts.c.credits if balance is Balance.MAIN else accounts.c.international_kurus


async def post(
    conn: AsyncConnection,
    account_id: int,
    balance: Balance,
    amount: int,
    kind: EntryKind,
    reference: str,
    note: str | None = None,
) -> Posting:
    """Move ``amount`` (negative for a debit) on one balance and record it.

    Must run inside the caller's write transaction, which it leaves for the caller to commit.
    """
    column = _column(balance)
    stmt = update(accounts).where(accounts.c.id == account_id)
    if amount < 0:
        stmt = stmt.where(column >= -amount)
    row = (await conn.execute(stmt.values({column: column + amount}).returning(column))).first()
    if row is None:
        raise InsufficientBalance(f"account {account_id} cannot pay {-amount} from {balance}")
    try:
        result = await conn.execute(
            insert(ledger)
            .values(
                account_id=account_id,
                balance=balance.value,
                amount=amount,
                balance_after=row[0],
                kind=kind.value,
                reference=reference,
                note=note,
                created_at=utcnow(),
            )
            .returning(ledger.c.id)
        )
    except IntegrityError as exc:
        # The caller's transaction rolls back, taking the balance update with it.
        raise DuplicateEntry(f"{kind} {reference} is already in the ledger") from exc
    return Posting(balance_after=row[0], entry_id=result.scalar_one())


async def post_many(
    conn: AsyncConnection,
    account_id: int,
    balance: Balance,
    kind: EntryKind,
    entries: list[tuple[int, str]],
) -> list[int]:
    """Several postings (amount, reference) to one balance with one balance update.

    All or nothing: raises InsufficientBalance, having changed nothing, when the total cannot
    be paid. Each entry still gets its own ledger row, with the balance after it.
    """
    total = sum(amount for amount, _ in entries)
    column = _column(balance)
    stmt = update(accounts).where(accounts.c.id == account_id)
    if total < 0:
        stmt = stmt.where(column >= -total)
    row = (await conn.execute(stmt.values({column: column + total}).returning(column))).first()
    if row is None:
        raise InsufficientBalance(f"account {account_id} cannot pay {-total} from {balance}")
    running = row[0] - total
    afters: list[int] = []
    rows = []
    now = utcnow()
    for amount, reference in entries:
        running += amount
        afters.append(running)
        rows.append(
            {
                "account_id": account_id,
                "balance": balance.value,
                "amount": amount,
                "balance_after": running,
                "kind": kind.value,
                "reference": reference,
                "note": None,
                "created_at": now,
            }
        )
    try:
        await conn.execute(insert(ledger), rows)
    except IntegrityError as exc:
        raise DuplicateEntry(f"a {kind} of this batch is already in the ledger") from exc
    return afters


async def last_balance_after(
    conn: AsyncConnection, account_id: int, balance: Balance
) -> int | None:
    """The balance the ledger says the account has (its latest entry), for reconciliation."""
    stmt = (
        select(ledger.c.balance_after)
        .where(ledger.c.account_id == account_id, ledger.c.balance == balance.value)
        .order_by(ledger.c.id.desc())
        .limit(1)
    )
    return (await conn.execute(stmt)).scalar_one_or_none()
