"""The ledger on both engines: balances move only with an entry, never below zero, never twice."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from ileti.domain.clock import utcnow
from ileti.domain.pricing import Balance
from ileti.store import accounts, ledger
from ileti.store.db import Database
from ileti.store.ledger import DuplicateEntry, EntryKind, InsufficientBalance
from ileti.store.models import LedgerEntry


async def _account(db: Database, credits: int = 0) -> int:
    async with db.write() as conn:
        return (await accounts.create_account(conn, "acme", utcnow(), credits=credits)).id


async def _entries(db: Database, account_id: int) -> list[tuple[int, int, str]]:
    table = LedgerEntry.__table__
    async with db.read() as conn:
        rows = await conn.execute(
            select(table.c.amount, table.c.balance_after, table.c.kind)
            .where(table.c.account_id == account_id)
            .order_by(table.c.id)
        )
        return [tuple(row) for row in rows]


async def test_opening_balance_and_topup_are_ledger_entries(db: Database) -> None:
    account_id = await _account(db, credits=100)
    async with db.write() as conn:
        after = await accounts.topup(conn, account_id, Balance.MAIN, 50, utcnow())
    assert after == 150
    assert await _entries(db, account_id) == [(100, 100, "topup"), (50, 150, "topup")]


async def test_concurrent_topups_end_with_ledger_equal_to_balance(db: Database) -> None:
    account_id = await _account(db)

    async def topup(amount: int) -> None:
        async with db.write() as conn:
            await accounts.topup(conn, account_id, Balance.MAIN, amount, utcnow())

    await asyncio.gather(*(topup(n) for n in range(1, 101)))
    async with db.read() as conn:
        main, _ = await accounts.balances(conn, account_id)
        last = await ledger.last_balance_after(conn, account_id, Balance.MAIN)
    entries = await _entries(db, account_id)
    assert main == sum(range(1, 101)) == last
    assert len(entries) == 100
    # Each entry's balance_after is the previous one plus its amount: no lost update.
    running = 0
    for amount, balance_after, _ in entries:
        running += amount
        assert balance_after == running


async def test_debit_never_goes_below_zero_under_concurrency(db: Database) -> None:
    account_id = await _account(db, credits=25)

    async def debit(n: int) -> bool:
        try:
            async with db.write() as conn:
                await ledger.post(
                    conn, account_id, Balance.MAIN, -2, EntryKind.DEBIT, f"message:{n}", utcnow()
                )
        except InsufficientBalance:
            return False
        return True

    accepted = sum(await asyncio.gather(*(debit(n) for n in range(40))))
    async with db.read() as conn:
        main, _ = await accounts.balances(conn, account_id)
    assert accepted == 12
    assert main == 25 - 2 * accepted == 1


async def test_same_reference_and_kind_cannot_post_twice(db: Database) -> None:
    account_id = await _account(db, credits=10)
    async with db.write() as conn:
        await ledger.post(
            conn, account_id, Balance.MAIN, -3, EntryKind.DEBIT, "message:7", utcnow()
        )
    with pytest.raises(DuplicateEntry):
        async with db.write() as conn:
            await ledger.post(
                conn, account_id, Balance.MAIN, -3, EntryKind.DEBIT, "message:7", utcnow()
            )
    async with db.read() as conn:
        main, _ = await accounts.balances(conn, account_id)
        count = (
            await conn.execute(select(func.count()).select_from(LedgerEntry.__table__))
        ).scalar_one()
    # The second debit rolled back whole: the balance moved once, one debit entry exists.
    assert main == 7
    assert count == 2
    # A refund of the same message is another kind and is allowed once.
    async with db.write() as conn:
        await ledger.post(
            conn, account_id, Balance.MAIN, 3, EntryKind.REFUND, "message:7", utcnow()
        )
    assert (await _entries(db, account_id))[-1] == (3, 10, "refund")


async def test_international_balance_is_separate(db: Database) -> None:
    async with db.write() as conn:
        account = await accounts.create_account(
            conn, "globex", utcnow(), credits=5, international_kurus=1250
        )
    assert account.international_enabled
    with pytest.raises(InsufficientBalance):
        async with db.write() as conn:
            await ledger.post(
                conn, account.id, Balance.INTERNATIONAL, -1251, EntryKind.DEBIT, "m:1", utcnow()
            )
    async with db.read() as conn:
        assert await accounts.balances(conn, account.id) == (5, 1250)
