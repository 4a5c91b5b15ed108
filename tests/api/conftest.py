"""An API over a real database, called through its ASGI interface."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ileti.api.app import create_app
from ileti.store import accounts, keys
from ileti.store.db import Database
from support.api import Api, api_settings


@pytest.fixture
async def api(db: Database) -> AsyncIterator[Api]:
    """The API on each backend, with an account 'acme' (150 credits, 12.50 TRY) and a key."""
    async with db.write() as conn:
        account = await accounts.create_account(conn, "acme", credits=150, international_kurus=1250)
        await accounts.add_title(conn, account.id, "ACME", active=True)
        await accounts.add_title(conn, account.id, "ACME Promo")
        key, _ = await keys.create_key(conn, account.id)
    app = create_app(api_settings(db), db)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield Api(client, db, key, account.id)
