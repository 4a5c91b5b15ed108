"""An account with a key whose webhook points at a receiver the test starts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ileti.store import accounts, keys
from ileti.store import webhooks as outbox
from ileti.store.db import Database
from ileti.store.ledger import Balance
from ileti.store.messages import PRIORITY_BULK, NewMessage, Submission, store
from ileti.store.models import WebhookEvent
from ileti.webhooks.events import WebhookConfig
from ileti.webhooks.sender import SenderSettings, WebhookSender
from ileti.webhooks.signing import new_secret

events = WebhookEvent.__table__

# Fast enough for tests, the same shape as the real schedule.
QUICK_BACKOFF = (0.05, 0.1, 0.2)
QUICK = SenderSettings(
    timeout=2.0,
    allow_private=True,
    idle_poll_seconds=0.05,
    record_seconds=0.005,
    lease_seconds=3.0,
)


@dataclass
class Customer:
    db: Database
    account_id: int
    key_id: int
    prefix: str
    key: str

    async def hook(self, url: str, **changes: object) -> WebhookConfig:
        config = replace(
            WebhookConfig(url=url, secret=new_secret(), backoff=QUICK_BACKOFF), **changes
        )
        async with self.db.write() as conn:
            await outbox.save_config(conn, self.key_id, config)
        return config

    async def messages(self, count: int, first_number: int = 905320000000) -> list[int]:
        now = datetime.now(UTC)
        async with self.db.write() as conn:
            stored = await store(
                conn,
                Submission(
                    account_id=self.account_id,
                    key_id=self.key_id,
                    title="ACME",
                    kind="group",
                    content_type=0,
                    priority=PRIORITY_BULK,
                    created_at=now,
                    due_at=now,
                    expires_at=now + timedelta(hours=1),
                    messages=[
                        NewMessage(
                            sentto=str(first_number + i),
                            country="Turkey-TR",
                            operator=None,
                            text="Merhaba",
                            sms_lang="Turkish",
                            lang="1",
                            segments=1,
                            cost=1,
                            cost_balance=Balance.MAIN,
                        )
                        for i in range(count)
                    ],
                ),
            )
        return stored.message_ids

    async def events(self) -> list[dict[str, object]]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(events).where(events.c.key_id == self.key_id).order_by(events.c.created_ms)
            )
            return [dict(row._mapping) for row in rows]


@pytest.fixture
async def customer(db: Database) -> Customer:
    return await new_customer(db, "acme")


async def new_customer(db: Database, name: str) -> Customer:
    async with db.write() as conn:
        account = await accounts.create_account(conn, name, credits=100_000)
        await accounts.add_title(conn, account.id, "ACME", active=True)
        key, record = await keys.create_key(conn, account.id)
    return Customer(db, account.id, record.id, record.prefix, key)


@asynccontextmanager
async def sending(db: Database, settings: SenderSettings = QUICK) -> AsyncIterator[WebhookSender]:
    sender = WebhookSender(db, settings)
    task = asyncio.ensure_future(sender.run())
    try:
        yield sender
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def eventually(condition: Callable[[], object], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
