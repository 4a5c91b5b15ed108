"""Migrations are reversible and match the models exactly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, text

from ileti.domain.clock import utcnow
from ileti.store import accounts, migrate
from ileti.store.db import Database
from ileti.store.models import Base, Group, Message, QueueEntry


async def _diff(db: Database) -> list[object]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_migrations_match_models_and_go_down_and_up(db: Database, database_target) -> None:
    assert await _diff(db) == []
    assert {"accounts", "api_keys", "sender_ids", "credit_ledger"} <= await _tables(db)
    await asyncio.to_thread(migrate.downgrade, database_target.url, database_target.schema)
    assert await _tables(db) <= {"alembic_version"}
    await asyncio.to_thread(migrate.upgrade, database_target.url, database_target.schema)
    assert await _diff(db) == []


async def _rows(db: Database) -> list[tuple[object, ...]]:
    async with db.read() as conn:
        return [
            tuple(row)
            for table, column in (
                ("groups", "id"),
                ("messages", "id"),
                ("dispatch_queue", "message_id"),
            )
            for row in await conn.execute(text(f"SELECT {column} FROM {table} ORDER BY 1"))
        ]


async def test_messages_groups_and_queue_keep_their_ids_across_the_key_change(
    db: Database, database_target
) -> None:
    url, schema = database_target.url, database_target.schema
    await asyncio.to_thread(migrate.downgrade, url, schema, "0007")
    now = datetime.now(UTC)
    async with db.write() as conn:
        account = await accounts.create_account(conn, "acme", utcnow(), credits=10)
        await conn.execute(
            insert(Group.__table__).values(
                id=2**40, account_id=account.id, key_id=1, title="ILETI", total_recipients=1,
                accepted=1, number_of_sms=1, created_at=now,
            )
        )  # fmt: skip
        await conn.execute(
            insert(Message.__table__).values(
                id=2**40 + 1, account_id=account.id, key_id=1, group_id=2**40, kind="group",
                title="ILETI", sentto="905321234567", country="Turkey-TR", text="hi",
                sms_lang="Turkish", lang="1", segments=1, content_type=0, status="queued",
                cost=1, cost_balance="main", created_at=now, due_at=now, expires_at=now,
                attempts=0,
            )
        )  # fmt: skip
        await conn.execute(
            insert(QueueEntry.__table__).values(
                message_id=2**40 + 1, priority=2, due_ms=0, lease_until_ms=0, attempts=0
            )
        )
    before = await _rows(db)
    assert before == [(2**40,), (2**40 + 1,), (2**40 + 1,)]

    await asyncio.to_thread(migrate.upgrade, url, schema)
    assert await _rows(db) == before
    assert await _diff(db) == []
    if database_target.backend == "sqlite":
        async with db.read() as conn:
            for table in ("messages", "groups", "dispatch_queue"):
                plan = await conn.execute(
                    text(f"EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE rowid = 1")
                )
                indexes = await conn.execute(text(f"PRAGMA index_list({table})"))
                # The key is the rowid: no index of its own beside it.
                assert not [row for row in indexes if row[1].startswith("sqlite_autoindex")]
                assert "INTEGER PRIMARY KEY" in str(plan.all())

    await asyncio.to_thread(migrate.downgrade, url, schema, "0007")
    assert await _rows(db) == before
