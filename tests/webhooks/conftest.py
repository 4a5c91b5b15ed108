"""An account with a key whose webhook points at a receiver the test starts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ileti.domain import priority
from ileti.domain.clock import Clock, utcnow
from ileti.domain.signing import new_secret
from ileti.domain.webhooks import WebhookConfig
from ileti.store import accounts, keys
from ileti.store import webhooks as outbox
from ileti.store.db import Database
from ileti.store.models import WebhookEvent
from ileti.webhooks.sender import SenderSettings, WebhookSender
from support.clock import ManualClock
from support.messages import FIRST_NUMBER, accept, new_message, submission

events = WebhookEvent.__table__

# Quick to notice work and to write outcomes. Retries keep the real schedule: a test moves its
# sender's clock on to each one (``eventually(..., retrying=sender)``). The receivers answer from
# a thread of the test's own process: on a machine busy with other work a 2 s timeout cut 59 of
# 60 deliveries short, so the timeout is no test's subject here unless it says so.
QUICK = SenderSettings(
    timeout=10.0,
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
        config = replace(WebhookConfig(url=url, secret=new_secret()), **changes)
        async with self.db.write() as conn:
            await outbox.save_config(conn, self.key_id, config)
        return config

    async def messages(self, count: int, first_number: int = FIRST_NUMBER) -> list[int]:
        stored = await accept(
            self.db,
            submission(
                self.account_id,
                [new_message(str(first_number + i)) for i in range(count)],
                datetime.now(UTC),
                key_id=self.key_id,
                kind="group",
                priority=priority.BULK,
                validity=timedelta(hours=1),
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
        account = await accounts.create_account(conn, name, utcnow(), credits=100_000)
        await accounts.add_title(conn, account.id, "ACME", utcnow(), active=True)
        key, record = await keys.create_key(conn, account.id, utcnow())
    return Customer(db, account.id, record.id, record.prefix, key)


@asynccontextmanager
async def sending(
    db: Database, settings: SenderSettings = QUICK, clock: Clock | None = None
) -> AsyncIterator[WebhookSender]:
    """A sender at work on ``db``. Its clock stands still (at the time it starts) unless the
    test moves it, or is the one given."""
    sender = WebhookSender(db, settings, clock=clock or ManualClock())
    task = asyncio.ensure_future(sender.run())
    try:
        yield sender
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def eventually(
    condition: Callable[[], object],
    within: float = 15.0,
    *,
    retrying: WebhookSender | None = None,
) -> None:
    """Waits until ``condition`` holds. With ``retrying``, that sender's retries come due as
    soon as it has nothing else to do: its clock moves on to the next one."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if retrying is not None:
            await _next_retry_comes_due(retrying)
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


_IN_HAND = (
    select(func.count())
    .select_from(events)
    .where(events.c.status == "pending", events.c.lease_owner.is_not(None))
)
_NEXT_DUE = select(func.min(events.c.due_ms)).where(events.c.status == "pending")


async def _next_retry_comes_due(sender: WebhookSender) -> None:
    clock = sender.clock
    assert isinstance(clock, ManualClock), "a sender whose retries the test brings on"
    async with sender.db.read() as conn:
        in_hand = (await conn.execute(_IN_HAND)).scalar_one()
        next_due = (await conn.execute(_NEXT_DUE)).scalar_one()
    # Only while no event is claimed (none has a lease the jump could end) and none is due.
    if in_hand or next_due is None or next_due <= clock.now_ms():
        return
    clock.advance((next_due - clock.now_ms() + 1) / 1000)
    sender.wake()
