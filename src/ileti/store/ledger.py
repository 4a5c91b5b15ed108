"""The credit ledger: every balance change is one append-only entry recording the balance after it.

The balance update and the entry commit together. The update is conditional (never below zero)
and takes the row lock on PostgreSQL, so concurrent postings to one account serialise there; on
SQLite the single writer does the same. A second entry with the same reference and kind violates
a unique constraint, which rolls back the balance update with it: nothing is counted twice.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.pricing import Balance
from ileti.domain.webhooks import EventType, make_event
from ileti.store import webhooks as outbox
from ileti.store.models import LedgerEntry, table_of
from ileti.store.sql import POSTGRES_ONLY, Insert, Raw, Row


class EntryKind(StrEnum):
    TOPUP = "topup"
    DEBIT = "debit"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"
    # Credits moved between a reseller and its child: an entry on each side, one transfer id.
    TRANSFER = "transfer"


class InsufficientBalance(Exception):
    """A debit the balance cannot pay: what it needed and what the balance held then."""

    def __init__(self, account_id: int, balance: Balance, needed: int, available: int) -> None:
        super().__init__(f"account {account_id} cannot pay {needed} from {balance}")
        self.account_id = account_id
        self.balance = balance
        self.needed = needed
        self.available = available


class DuplicateEntry(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Posting:
    balance_after: int
    entry_id: int


# The balances a transaction changes on several accounts (a batch of sends from several
# accounts, a transfer, refunds of several payers' messages) are locked first, in the order of
# the accounts' ids, so that two such transactions never each hold a row the other waits for.
_HOLD = Raw(
    "SELECT id FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE", sqlite=POSTGRES_ONLY
)


async def hold(conn: AsyncConnection, account_ids: Collection[int]) -> None:
    """Lock the accounts' balances, in the order of their ids, before posting to more than one
    of them in this transaction (SQLite's one writer needs no order)."""
    if len(set(account_ids)) > 1 and conn.dialect.name == "postgresql":
        await _HOLD.rows(conn, sorted(set(account_ids)))


async def post(
    conn: AsyncConnection,
    account_id: int,
    balance: Balance,
    amount: int,
    kind: EntryKind,
    reference: str,
    now: datetime,
    note: str | None = None,
) -> Posting:
    """Move ``amount`` (negative for a debit) on one balance and record it.

    Must run inside the caller's write transaction, which it leaves for the caller to commit.
    """
    rows = await _MOVE[balance].rows(conn, account_id, amount)
    if not rows:
        raise await _insufficient(conn, account_id, balance, -amount)
    balance_after = rows[0]["balance_after"]
    if balance is Balance.MAIN:
        await _watch(conn, account_id, rows[0], now)
    entry = (account_id, balance.value, amount, balance_after, kind.value, reference, now)
    try:
        [entered] = await _ENTER_ONE.rows(conn, *entry, note)
    except IntegrityError as exc:
        # The caller's transaction rolls back, taking the balance update with it.
        raise DuplicateEntry(f"{kind} {reference} is already in the ledger") from exc
    return Posting(balance_after=balance_after, entry_id=entered["id"])


async def post_many(
    conn: AsyncConnection,
    account_id: int,
    balance: Balance,
    kind: EntryKind,
    entries: list[tuple[int, str]],
    now: datetime,
) -> list[int]:
    """Several postings (amount, reference) to one balance with one balance update.

    All or nothing: raises InsufficientBalance, having changed nothing, when the total cannot
    be paid. Each entry still gets its own ledger row, with the balance after it.
    """
    total = sum(amount for amount, _ in entries)
    rows = await _MOVE[balance].rows(conn, account_id, total)
    if not rows:
        raise await _insufficient(conn, account_id, balance, -total)
    if balance is Balance.MAIN:
        await _watch(conn, account_id, rows[0], now)
    running = rows[0]["balance_after"] - total
    afters: list[int] = []
    postings = []
    for amount, reference in entries:
        running += amount
        afters.append(running)
        postings.append((account_id, balance.value, amount, running, kind.value, reference, now))
    try:
        await _ENTER_MANY.run_rows(conn, postings)
    except IntegrityError as exc:
        raise DuplicateEntry(f"a {kind} of this batch is already in the ledger") from exc
    return afters


async def _insufficient(
    conn: AsyncConnection, account_id: int, balance: Balance, needed: int
) -> InsufficientBalance:
    """The refusal of a debit, with what the balance holds (read only when one is refused)."""
    row = await _HELD[balance].first(conn, account_id)
    return InsufficientBalance(account_id, balance, needed, row["held"] if row is not None else 0)


# The balance moves only where it stays at zero or above; no row back means it could not.
# The main balance comes back with the account's low-balance threshold, to watch it.
_MOVE = {
    balance: Raw(
        f"UPDATE accounts SET {column} = {column} + $2"
        f" WHERE id = $1 AND {column} + $2 >= 0 RETURNING {column} AS balance_after{watched}"
    )
    for balance, column, watched in (
        (
            Balance.MAIN,
            "credits",
            ", low_balance_threshold AS threshold, low_balance_notified AS notified",
        ),
        (Balance.INTERNATIONAL, "international_kurus", ""),
    )
}
_NOTIFIED = Raw("UPDATE accounts SET low_balance_notified = $2 WHERE id = $1")
_WATCHERS = Raw(
    "SELECT id FROM api_keys WHERE account_id = $1 AND kind = 'api' AND revoked_at IS NULL"
    " AND webhook IS NOT NULL"
)


async def _watch(conn: AsyncConnection, account_id: int, moved: Row, now: datetime) -> None:
    """Going below the account's low-balance threshold raises ``account.low_balance`` to its
    keys that want it, once: it is raised again only after the balance went back up to it."""
    threshold = moved["threshold"]
    if threshold is None:
        return
    credits = moved["balance_after"]
    below = credits < threshold
    if below == bool(moved["notified"]):
        return
    await _NOTIFIED.run(conn, account_id, below)
    if not below:
        return
    keys = [row["id"] for row in await _WATCHERS.rows(conn, account_id)]
    settings = await outbox.configs(conn, keys)
    data = {"account_id": account_id, "credits": credits, "threshold": threshold}
    await outbox.add(
        conn,
        [
            make_event(key_id, EventType.ACCOUNT_LOW_BALANCE, data, now)
            for key_id, config in sorted(settings.items())
            if config.wants(EventType.ACCOUNT_LOW_BALANCE)
        ],
    )


_HELD = {
    balance: Raw(f"SELECT {column} AS held FROM accounts WHERE id = $1")
    for balance, column in (
        (Balance.MAIN, "credits"),
        (Balance.INTERNATIONAL, "international_kurus"),
    )
}
_ENTER_ONE = Raw(
    "INSERT INTO credit_ledger"
    " (account_id, balance, amount, balance_after, kind, reference, created_at, note)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"
)
_ENTER_MANY = Insert(
    table_of(LedgerEntry),
    ("account_id", "balance", "amount", "balance_after", "kind", "reference", "created_at"),
)


_LAST_BALANCE_AFTER = Raw(
    "SELECT balance_after FROM credit_ledger WHERE account_id = $1 AND balance = $2"
    " ORDER BY id DESC LIMIT 1"
)


async def last_balance_after(
    conn: AsyncConnection, account_id: int, balance: Balance
) -> int | None:
    """The balance the ledger says the account has (its latest entry), for reconciliation."""
    row = await _LAST_BALANCE_AFTER.first(conn, account_id, balance.value)
    return None if row is None else row["balance_after"]
