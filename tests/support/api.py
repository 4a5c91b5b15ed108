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
from ileti.store import keys
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
