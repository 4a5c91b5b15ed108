"""An API over a real database, called through its ASGI interface."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ileti.store import accounts, keys
from ileti.store.db import Database
from support.api import Api, serving
from support.clock import ManualClock


@pytest.fixture
async def api(db: Database) -> AsyncIterator[Api]:
    """The API on each backend, with an account 'acme' (150 credits, 12.50 TRY) and a key."""
    clock = ManualClock()
    now = clock.now()
    async with db.write() as conn:
        account = await accounts.create_account(
            conn, "acme", now, credits=150, international_kurus=1250
        )
        await accounts.add_title(conn, account.id, "ACME", now, active=True)
        await accounts.add_title(conn, account.id, "ACME Promo", now)
        key, _ = await keys.create_key(conn, account.id, now)
    async with serving(db, clock) as (client, services):
        yield Api(client, services, clock, key, account.id)
