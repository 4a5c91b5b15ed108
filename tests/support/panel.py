"""The panel over a real database, called through its ASGI interface, with users logged in.

Account ``acme`` (100 credits, title ``ACME``) has an owner and a member; account ``rival`` has
an owner of its own, for the isolation checks. ``post`` adds the CSRF token a browser's form
would carry.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from ileti.api.app import create_app
from ileti.domain.permissions import Role
from ileti.services import Services
from ileti.store import accounts
from ileti.store.db import Database
from ileti.web.session import SESSION_COOKIE
from support.api import api_settings
from support.clock import ManualClock

BASE = "http://gateway"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class PanelUserLogin:
    email: str
    password: str
    client: httpx.AsyncClient


@dataclass
class Panel:
    services: Services
    clock: ManualClock
    transport: httpx.ASGITransport
    account_id: int
    rival_account_id: int
    owner: PanelUserLogin
    member: PanelUserLogin
    rival: PanelUserLogin
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def db(self) -> Database:
        return self.services.db

    def client(self) -> httpx.AsyncClient:
        """A browser with no cookies yet."""
        return _client(self.transport, self._clients)

    async def login(self, email: str, password: str) -> httpx.AsyncClient:
        """A browser logged in as ``email`` (a user without TOTP)."""
        return await _login(self.client(), email, password)

    def csrf(self, client: httpx.AsyncClient) -> str:
        """The token the panel's forms carry for this browser's session."""
        return self.services.logins.form_token(client.cookies.get(SESSION_COOKIE, path="/panel"))

    async def post(
        self,
        path: str,
        data: dict[str, object] | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        files: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A form posted as the owner (or as ``client``), with its CSRF token."""
        client = client or self.owner.client
        body = {"csrf": self.csrf(client), **(data or {})}
        return await client.post(path, data=body, files=files, headers=headers)  # type: ignore[arg-type]

    async def get(self, path: str, *, client: httpx.AsyncClient | None = None) -> httpx.Response:
        return await (client or self.owner.client).get(path)


def _client(transport: httpx.ASGITransport, made: list[httpx.AsyncClient]) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=transport, base_url=BASE)
    made.append(client)
    return client


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.AsyncClient:
    page = await client.get("/panel/login")
    token = CSRF.search(page.text)
    assert token, page.text
    answer = await client.post(
        "/panel/login", data={"csrf": token.group(1), "email": email, "password": password}
    )
    assert answer.status_code == 303, answer.text
    return client


@asynccontextmanager
async def acme_panel(db: Database, **settings: object) -> AsyncIterator[Panel]:
    clock = ManualClock()
    now = clock.now()
    async with db.write() as conn:
        acme = await accounts.create_account(conn, "acme", now, credits=100)
        await accounts.add_title(conn, acme.id, "ACME", now, active=True)
        rival = await accounts.create_account(conn, "rival", now, credits=100)
        await accounts.add_title(conn, rival.id, "RIVAL", now, active=True)
    services = Services.create(api_settings(db, **settings), db, clock)
    _, owner_password = await services.users.add("acme", "owner@acme.test", Role.OWNER)
    _, member_password = await services.users.add("acme", "member@acme.test", Role.MEMBER)
    _, rival_password = await services.users.add("rival", "owner@rival.test", Role.OWNER)
    transport = httpx.ASGITransport(app=create_app(services), client=("127.0.0.1", 40000))
    clients: list[httpx.AsyncClient] = []
    try:
        logins = [
            PanelUserLogin(email, pw, await _login(_client(transport, clients), email, pw))
            for email, pw in (
                ("owner@acme.test", owner_password),
                ("member@acme.test", member_password),
                ("owner@rival.test", rival_password),
            )
        ]
        yield Panel(services, clock, transport, acme.id, rival.id, *logins, clients)
    finally:
        for client in clients:
            await client.aclose()
