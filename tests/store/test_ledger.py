"""The ledger on both engines: balances move only with an entry, never below zero, never twice."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from ileti.domain.clock import utcnow
from ileti.domain.pricing import Balance
from ileti.store import accounts, ledger
from ileti.store.db import Database
from ileti.store.ledger import DuplicateEntry, EntryKind, InsufficientBalance
from ileti.store.messages import Stored, Submission, store_many
from ileti.store.models import LedgerEntry
from support.messages import new_message, submission


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


async def test_a_batch_of_several_payers_never_waits_in_a_ring(db: Database) -> None:
    """A batch of sends from two accounts, stored while another transaction holds the first
    account and goes on to the second: the batch takes the balances in the order of their ids
    (the second account's request first in the batch notwithstanding), so it waits without
    holding the second, and neither transaction is ended as a deadlock."""
    if not db.is_postgres:
        pytest.skip("SQLite has one writer at a time")
    async with db.write() as conn:
        first = (await accounts.create_account(conn, "acme", utcnow(), credits=10)).id
        second = (await accounts.create_account(conn, "globex", utcnow(), credits=10)).id

    async def batch() -> list[Stored | InsufficientBalance]:
        async with db.write() as conn:
            return await store_many(conn, [_submission(second), _submission(first)], utcnow())

    async with db.write() as holder:
        await ledger.post(holder, first, Balance.MAIN, -1, EntryKind.DEBIT, "held:1", utcnow())
        stored = asyncio.create_task(batch())
        await _until_a_lock_is_awaited(db)
        await ledger.post(holder, second, Balance.MAIN, -1, EntryKind.DEBIT, "held:2", utcnow())
    assert all(isinstance(outcome, Stored) for outcome in await stored)
    async with db.read() as conn:
        assert await accounts.balances(conn, first) == (8, 0)
        assert await accounts.balances(conn, second) == (8, 0)


async def test_a_large_request_writes_its_rows_before_it_waits_for_its_balance(
    db: Database,
) -> None:
    """A group's balance stays locked from its debit to the commit: taken after the group's
    1,500 rows are written, so that other sends of the account wait only for the end."""
    if not db.is_postgres:
        pytest.skip("SQLite has one writer at a time")
    account = await _account(db, credits=5_000)

    async def group() -> list[Stored | InsufficientBalance]:
        async with db.write() as conn:
            return await store_many(conn, [_submission(account, 1_500)], utcnow())

    async with db.write() as holder:
        await ledger.post(holder, account, Balance.MAIN, -1, EntryKind.DEBIT, "held", utcnow())
        stored = asyncio.create_task(group())
        await _until_a_lock_is_awaited(db)
        async with db.read() as conn:
            written = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_locks AS l JOIN pg_stat_activity AS a USING (pid)"
                    " JOIN pg_class AS c ON c.oid = l.relation WHERE a.wait_event_type = 'Lock'"
                    " AND a.datname = current_database() AND c.relname = 'messages'"
                    " AND l.mode = 'RowExclusiveLock'"
                )
            )
        assert written == 1, "the waiting group has not written its messages yet"
    [outcome] = await stored
    assert isinstance(outcome, Stored) and len(outcome.message_ids) == 1_500
    async with db.read() as conn:
        assert await accounts.balances(conn, account) == (5_000 - 1 - 1_500, 0)


async def test_large_requests_the_balance_cannot_all_cover_store_what_it_can(
    db: Database,
) -> None:
    """2,500 messages in two groups, 1,200 credits: the first group (1,500) is refused and
    leaves no row, the second (1,000) is stored and paid for."""
    account = await _account(db, credits=1_200)
    async with db.write() as conn:
        first, second = await store_many(
            conn, [_submission(account, 1_500), _submission(account, 1_000)], utcnow()
        )
    assert isinstance(first, InsufficientBalance) and first.needed == 1_500
    assert isinstance(second, Stored) and len(second.message_ids) == 1_000
    async with db.read() as conn:
        assert await accounts.balances(conn, account) == (200, 0)
        for table, column, expected in [
            ("messages", "id", second.message_ids),
            ("dispatch_queue", "message_id", second.message_ids),
            ("groups", "id", [second.group_id]),
        ]:
            rows = await conn.execute(text(f"SELECT {column} FROM {table} ORDER BY {column}"))
            assert [row[0] for row in rows] == expected, table
    assert [amount for amount, _, _ in await _entries(db, account)] == [1_200, -1_000]


def _submission(account_id: int, recipients: int = 1) -> Submission:
    return submission(
        account_id,
        [new_message("905321234567")] * recipients,
        utcnow(),
        grouped=recipients > 1,
    )


async def _until_a_lock_is_awaited(db: Database) -> None:
    for _ in range(500):
        async with db.read() as conn:
            waiting = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the batch never waited for the first account")
