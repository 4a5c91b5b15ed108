"""An account with credits, titles and a key, and the services of one process over it (with
the API over the same services, to hold the two doors side by side)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ileti.store import accounts, keys
from ileti.store.db import Database
from support.api import Api, serving
from support.clock import ManualClock


@pytest.fixture
async def api(db: Database) -> AsyncIterator[Api]:
    clock = ManualClock()
    now = clock.now()
    async with db.write() as conn:
        account = await accounts.create_account(conn, "acme", now, credits=100)
        await accounts.add_title(conn, account.id, "ACME", now, active=True)
        await accounts.set_otp(conn, account.id, title="ACME")
        key, _ = await keys.create_key(conn, account.id, now)
    async with serving(db, clock) as (client, services):
        yield Api(client, services, clock, key, account.id)
