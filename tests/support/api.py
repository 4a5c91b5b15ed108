"""A test client for the API over a real database, on a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from ileti.api.app import create_app
from ileti.config import Settings
from ileti.domain.permissions import Permission
from ileti.services import Services
from ileti.store import accounts, keys
from ileti.store.db import Database
from support.clock import ManualClock


@dataclass
class Api:
    client: httpx.AsyncClient
    services: Services
    clock: ManualClock
    key: str
    account_id: int

    @property
    def db(self) -> Database:
        return self.services.db

    async def post(self, path: str, body: object = None, **kwargs: object) -> httpx.Response:
        if body is None:
            body = {"api_key": self.key}
        return await self.client.post(path, json=body, **kwargs)  # type: ignore[arg-type]

    async def new_key(
        self,
        account_id: int | None = None,
        *,
        deny: set[Permission] | None = None,
        allow_ips: list[str] | None = None,
        per_minute: int | None = None,
    ) -> str:
        async with self.db.write() as conn:
            key, _ = await keys.create_key(
                conn,
                account_id or self.account_id,
                self.clock.now(),
                deny=deny,
                allow_ips=allow_ips,
                per_minute=per_minute,
            )
        return key


def api_settings(db: Database, **overrides: object) -> Settings:
    return Settings(database_url=db.url, database_schema=db.schema, **overrides)  # type: ignore[arg-type]


@asynccontextmanager
async def serving(
    db: Database, clock: ManualClock | None = None, **settings: object
) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """The API over ``db`` (with these settings), called through its ASGI interface."""
    services = Services.create(api_settings(db, **settings), db, clock or ManualClock())
    transport = httpx.ASGITransport(app=create_app(services), client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client, services


@asynccontextmanager
async def acme_api(db: Database, **settings: object) -> AsyncIterator[Api]:
    """Account ``acme`` (100 credits, title and OTP title ``ACME``, a key) and the services
    and API of one process over ``db``, with these settings."""
    clock = ManualClock()
    now = clock.now()
    async with db.write() as conn:
        account = await accounts.create_account(conn, "acme", now, credits=100)
        await accounts.add_title(conn, account.id, "ACME", now, active=True)
        await accounts.set_otp(conn, account.id, title="ACME")
        key, _ = await keys.create_key(conn, account.id, now)
    async with serving(db, clock, **settings) as (client, services):
        yield Api(client, services, clock, key, account.id)
