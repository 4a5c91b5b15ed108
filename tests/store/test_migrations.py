"""Migrations are reversible and match the models exactly."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.config import Settings
from ileti.dispatch.sweeper import Sweeper
from ileti.store import migrate
from ileti.store.db import Database
from ileti.store.keyring import Keyring
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


async def _old_account(conn: AsyncConnection) -> int:
    """An account as a schema from before today's columns takes one (the store's own code
    writes today's)."""
    row = await conn.execute(
        text(
            "INSERT INTO accounts (name, status, credits, international_kurus,"
            " international_enabled, created_at) VALUES ('acme', 'active', 10, 0, false, :now)"
            " RETURNING id"
        ),
        {"now": datetime.now(UTC)},
    )
    return int(row.scalar_one())


async def test_messages_groups_and_queue_keep_their_ids_across_the_key_change(
    db: Database, database_target
) -> None:
    url, schema = database_target.url, database_target.schema
    await asyncio.to_thread(migrate.downgrade, url, schema, "0007")
    now = datetime.now(UTC)
    async with db.write() as conn:
        account = await _old_account(conn)
        await conn.execute(
            insert(Group.__table__).values(
                id=2**40, account_id=account, key_id=1, title="ILETI", total_recipients=1,
                accepted=1, number_of_sms=1, created_at=now,
            )
        )  # fmt: skip
        await conn.execute(
            insert(Message.__table__).values(
                id=2**40 + 1, account_id=account, key_id=1, group_id=2**40, kind="group",
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


async def test_secrets_leave_the_database_and_live_otps_end_with_the_key_that_left(
    db: Database, database_target, tmp_path, monkeypatch
) -> None:
    """0009: webhook secrets written in clear are sealed with the installation's key (the key
    file the processes use, in the data directory); the OTP hash key kept in the database is
    dropped, and the OTPs it hashed end. A downgrade gives the secrets back in clear."""
    url, schema = database_target.url, database_target.schema
    monkeypatch.setenv("ILETI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ILETI_SECRET_KEY", raising=False)
    monkeypatch.delenv("ILETI_OTP_SECRET", raising=False)
    await asyncio.to_thread(migrate.downgrade, url, schema, "0008")
    secret, previous = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=", "whsec_" + "A" * 32
    webhook = {"url": "https://hooks.example.com/", "secret": secret, "previous_secret": previous}
    async with db.write() as conn:
        account = await _old_account(conn)
        await conn.execute(
            text(
                "INSERT INTO api_keys (account_id, prefix, key_hash, api_enabled, allowed_ips,"
                " created_at, send_single_sms, send_otp, send_bulk_sms, check_balance,"
                " check_sms_status, webhook) VALUES (:a, 'ilt_0000000000', 'x', true, '[]',"
                " :now, true, true, true, true, true, :webhook)"
            ),
            {"a": account, "now": datetime.now(UTC), "webhook": json.dumps(webhook)},
        )
        await conn.execute(
            text("INSERT INTO server_secrets (name, value) VALUES ('otp_code_key', 'ab')")
        )
        await conn.execute(
            text(
                "INSERT INTO otps (id, account_id, key_id, message_id, sentto, region, code_hash,"
                " masked_text, created_ms, expires_ms, attempts_left, status) VALUES"
                " ('otp_1', :a, 1, 1, '905321234567', 'TR', 'h', 'm', 0, 9999999999999, 5,"
                " 'live')"
            ),
            {"a": account},
        )

    async def stored() -> tuple[dict, str, set[str]]:
        async with db.read() as conn:
            raw = (await conn.execute(text("SELECT webhook FROM api_keys"))).scalar()
            status = (await conn.execute(text("SELECT status FROM otps"))).scalar()
        return (json.loads(raw) if isinstance(raw, str) else raw), status, await _tables(db)

    await asyncio.to_thread(migrate.upgrade, url, schema)
    sealed, status, tables = await stored()
    keyring = Keyring.from_settings(Settings(database_url=url, data_dir=tmp_path))
    assert secret not in json.dumps(sealed) and previous not in json.dumps(sealed)
    assert keyring.open(sealed["secret"]) == secret
    assert keyring.open(sealed["previous_secret"]) == previous
    assert sealed["url"] == webhook["url"]
    assert "server_secrets" not in tables
    assert status == "spent"
    assert await _diff(db) == []

    await asyncio.to_thread(migrate.downgrade, url, schema, "0008")
    clear, _, tables = await stored()
    assert clear == webhook
    assert "server_secrets" in tables
    await asyncio.to_thread(migrate.upgrade, url, schema)


async def test_the_overdue_walk_starts_at_the_earliest_message_sent_before_the_upgrade(
    db: Database, database_target
) -> None:
    """0018: the walk to overdue messages replaces the status index; a message sent before the
    upgrade, whose validity ended long ago, is still expired by the first sweep after it."""
    url, schema = database_target.url, database_target.schema
    await asyncio.to_thread(migrate.downgrade, url, schema, "0017")
    now = datetime.now(UTC)
    ended = now - timedelta(days=2)
    async with db.write() as conn:
        account = await _old_account(conn)
        for message_id, status, expires_at in (
            (1, "delivered", now - timedelta(days=3)),
            (2, "sent", ended),
            (3, "sent", now + timedelta(days=1)),
        ):
            await conn.execute(
                insert(Message.__table__).values(
                    id=message_id, account_id=account, key_id=1, kind="single", title="ILETI",
                    sentto="905321234567", country="Turkey-TR", text="hi", sms_lang="Turkish",
                    lang="1", segments=1, content_type=0, status=status, cost=1,
                    cost_balance="main", created_at=expires_at - timedelta(days=1),
                    due_at=expires_at - timedelta(days=1), expires_at=expires_at, attempts=0,
                )
            )  # fmt: skip
    await asyncio.to_thread(migrate.upgrade, url, schema)
    assert await _diff(db) == []

    await Sweeper(db).sweep()
    async with db.read() as conn:
        states = dict((await conn.execute(text("SELECT id, status FROM messages"))).all())
    assert states == {1: "delivered", 2: "expired", 3: "sent"}
