"""Migrations are reversible and match the models exactly."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from ileti.store import migrate
from ileti.store.db import Database
from ileti.store.models import Base


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
