"""A move of named messages (a receipt batch: these 30 are delivered) reads those messages,
not every message in the move's source state, whatever the database's statistics say."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.lifecycle import DELIVERED
from ileti.store import accounts, delivery, lifecycle
from ileti.store.db import _CUSTOM_PLANS, Database
from ileti.store.models import Message
from support.clock import ManualClock
from support.messages import message_row

SENT_ALREADY = 3_000


async def _messages(
    db: Database, status: str, *, analysed_at: int | None = None
) -> tuple[int, list[int]]:
    """An account with 3,000 messages in ``status``; its id and theirs. ``analysed_at``:
    PostgreSQL's statistics are taken when the table held that many."""
    now = ManualClock().now()
    async with db.write() as conn:
        account = await accounts.create_account(conn, "acme", now, credits=0)
    ids = list(range(1, SENT_ALREADY + 1))
    cut = analysed_at or 0
    for part in (ids[:cut], ids[cut:]):
        async with db.write() as conn:
            if part and part[0] == cut + 1:
                await conn.execute(text("ANALYZE messages"))
            await _insert(conn, account.id, part, status, now)
    return account.id, ids


async def _insert(
    conn: AsyncConnection, account_id: int, ids: list[int], status: str, now: datetime
) -> None:
    if ids:
        await conn.execute(
            insert(Message.__table__),
            [
                message_row(message_id, account_id, status=status, created_at=now)
                for message_id in ids
            ],
        )


async def test_a_receipt_batch_moves_its_own_messages_only(db: Database) -> None:
    _, ids = await _messages(db, "sent")
    named = ids[100:130]
    async with db.write() as conn:
        await conn.execute(
            text("UPDATE messages SET status = 'queued' WHERE id = :id"), {"id": 101}
        )
        moved = await lifecycle.finish(conn, named, DELIVERED, ManualClock().now(), None)
    assert sorted(moved) == [i for i in named if i != 101]  # 101 was not sent: it stays
    async with db.read() as conn:
        rows = await conn.execute(text("SELECT status, count(*) FROM messages GROUP BY status"))
        states = {status: count for status, count in rows}
    assert states == {"delivered": 29, "queued": 1, "sent": SENT_ALREADY - 30}


def _read_from(node: dict[str, Any], table: str) -> int:
    """Rows the plan's nodes read from ``table`` or its indexes (kept or filtered out)."""
    rows = 0
    if node.get("Relation Name") == table and "Scan" in node["Node Type"]:
        rows += (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
    return rows + sum(_read_from(child, table) for child in node.get("Plans", []))


async def test_a_move_reads_the_messages_it_names_when_the_statistics_lag(db: Database) -> None:
    """The statistics were taken while no message was sent; now 3,000 are. Delivering 30 of
    them reads 30 rows, not the 3,000 the status index holds under ``sent``."""
    _, ids = await _messages(db, "queued")
    named = ids[100:130]
    async with db.write() as conn:
        await conn.execute(text("ANALYZE messages" if db.is_postgres else "ANALYZE"))
        await conn.execute(text("UPDATE messages SET status = 'sent'"))
    async with db.read() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        if db.is_postgres:
            # EXPLAIN ANALYZE runs the update: in a transaction that is rolled back.
            transaction = driver.transaction()
            await transaction.start()
            try:
                plan = await driver.fetchval(
                    "EXPLAIN (ANALYZE, FORMAT JSON) " + lifecycle._FINISH.postgres,
                    named,
                    "delivered",
                    ManualClock().now(),
                    None,
                    "sent",
                )
            finally:
                await transaction.rollback()
            read = _read_from(plan[0]["Plan"], "messages")
            assert read <= len(named), plan
        else:
            cursor = await driver.execute(
                "EXPLAIN QUERY PLAN " + lifecycle._FINISH.sqlite,
                (str(named), "delivered", "2026-12-06 00:00:00", None, "sent"),
            )
            steps = [row[3] for row in await cursor.fetchall()]
            searched = [step for step in steps if "messages" in step]
            assert searched and all("PRIMARY KEY" in step for step in searched), steps


async def _explained(db: Database, statement: str, *values: Any) -> dict[str, Any]:
    """PostgreSQL's plan of ``statement`` as it ran (rolled back), in a transaction that
    plans as the dispatcher's and the receipt consumer's do (``write(custom_plans=True)``)."""
    async with db.read() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        transaction = driver.transaction()
        await transaction.start()
        try:
            await driver.execute(_CUSTOM_PLANS)
            plan = await driver.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, *values)
        finally:
            await transaction.rollback()
    return plan[0]["Plan"]


def _scanned(node: dict[str, Any]) -> int:
    """Rows every scan of the plan read (a table's, by an index or not; a list's), each time it
    ran. A bitmap's index scan is not counted apart: its heap scan reads the rows it found."""
    rows = 0
    if "Scan" in node["Node Type"] and node["Node Type"] != "Bitmap Index Scan":
        rows += (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
    return rows + sum(_scanned(child) for child in node.get("Plans", []))


# A dispatcher's or a receipt consumer's batch, large beside a young table: PostgreSQL planned
# the old statements (a join with the batch as a table) as a walk of the whole table.
BATCH = slice(100, 350)


async def test_marking_sent_reads_the_messages_it_names(db: Database) -> None:
    if not db.is_postgres:
        pytest.skip("PostgreSQL only: its plans are chosen by statistics")
    _, ids = await _messages(db, "queued", analysed_at=100)
    named = ids[BATCH]
    plan = await _explained(
        db, lifecycle._MARK_SENT.postgres, named, "sent", ManualClock().now(), "smsc", "queued"
    )
    assert _scanned(plan) == len(named), json.dumps(plan, indent=1)


async def test_recording_receipts_reads_the_parts_it_names(db: Database) -> None:
    if not db.is_postgres:
        pytest.skip("PostgreSQL only: its plans are chosen by statistics")
    _, ids = await _messages(db, "sent")
    async with db.write() as conn:
        await conn.execute(
            text(
                "INSERT INTO message_parts (message_id, part, carrier, operator_id, status)"
                " SELECT id, 1, 'smsc', 'op' || id, 'sent' FROM messages WHERE id <= 100"
            )
        )
        await conn.execute(text("ANALYZE message_parts"))
        await conn.execute(
            text(
                "INSERT INTO message_parts (message_id, part, carrier, operator_id, status)"
                " SELECT id, 1, 'smsc', 'op' || id, 'sent' FROM messages WHERE id > 100"
            )
        )
    named = ids[BATCH]
    plan = await _explained(
        db,
        delivery._FINISH_PARTS.postgres,
        named,
        [message_id * delivery._PARTS_PER_MESSAGE + 1 for message_id in named],
        "delivered",
        ManualClock().now(),
        None,
    )
    assert _scanned(plan) == len(named), json.dumps(plan, indent=1)
