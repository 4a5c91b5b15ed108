"""A test client for the API over a real database."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ileti.config import Settings
from ileti.domain.permissions import Permission
from ileti.store import keys
from ileti.store.db import Database


@dataclass
class Api:
    client: httpx.AsyncClient
    db: Database
    key: str
    account_id: int

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
                deny=deny,
                allow_ips=allow_ips,
                per_minute=per_minute,
            )
        return key


def api_settings(db: Database, **overrides: object) -> Settings:
    return Settings(database_url=db.url, database_schema=db.schema, **overrides)  # type: ignore[arg-type]
