"""The demo account that ``ileti serve --demo`` shows a newcomer: an account with credits, an
active title that its OTPs go from, and a key kept in the data directory, so that the examples
a newcomer saved keep working across restarts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from ileti.config import Settings
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.errors import NotFound
from ileti.domain.passwords import hash_password, new_password, verify_password
from ileti.domain.permissions import Role
from ileti.domain.pricing import Balance
from ileti.store import accounts as account_store
from ileti.store import keys as key_store
from ileti.store import users as user_store
from ileti.store.datadir import data_directory, read_private, replace_private
from ileti.store.db import Database

DEMO_ACCOUNT = "demo"
DEMO_TITLE = "ILETI"
DEMO_CREDITS = 1000
DEMO_KEY_FILE = "demo.key"
DEMO_OWNER = "demo@example.com"
DEMO_PASSWORD_FILE = "demo.password"


@dataclass(frozen=True, slots=True)
class DemoKey:
    key: str
    kept_in: Path


@dataclass(frozen=True, slots=True)
class DemoOwner:
    email: str
    password: str


async def ensure_demo_owner(
    db: Database, settings: Settings, clock: Clock = SYSTEM_CLOCK
) -> DemoOwner:
    """The demo account's panel owner, with the password kept in the data directory (so it
    is the same at every start), set again when the file is gone or no longer matches."""
    kept_in = data_directory(settings.database_url, settings.data_dir) / DEMO_PASSWORD_FILE
    kept = read_private(kept_in)
    async with db.read() as conn:
        account = await account_store.find_account(conn, DEMO_ACCOUNT)
        try:
            user = await user_store.by_email(conn, DEMO_OWNER)
        except NotFound:
            user = None
    if (
        user is not None
        and kept
        and await asyncio.to_thread(verify_password, user.password_hash, kept)
    ):
        return DemoOwner(DEMO_OWNER, kept)
    password = new_password()
    hashed = await asyncio.to_thread(hash_password, password)
    replace_private(kept_in, password)
    async with db.write() as conn:
        if user is None:
            await user_store.insert(
                conn, account.id, DEMO_OWNER, hashed, Role.OWNER.value, clock.now()
            )
        else:
            await user_store.set_password(conn, user.id, hashed)
    return DemoOwner(DEMO_OWNER, password)


async def ensure_demo(db: Database, settings: Settings, clock: Clock = SYSTEM_CLOCK) -> DemoKey:
    """The demo account and title (made once), topped up when low, and its key: the one kept
    in the data directory while it is the demo's and not revoked, else a new one (kept there,
    the account's older keys revoked)."""
    kept_in = data_directory(settings.database_url, settings.data_dir) / DEMO_KEY_FILE
    kept = read_private(kept_in)
    now = clock.now()
    async with db.write() as conn:
        try:
            account = await account_store.find_account(conn, DEMO_ACCOUNT)
        except NotFound:
            account = await account_store.create_account(
                conn, DEMO_ACCOUNT, now, credits=DEMO_CREDITS
            )
            await account_store.add_title(conn, account.id, DEMO_TITLE, now, active=True)
            await account_store.set_otp(conn, account.id, title=DEMO_TITLE)
        if account.credits < DEMO_CREDITS // 10:
            await account_store.topup(conn, account.id, Balance.MAIN, DEMO_CREDITS, now)
        if kept:
            try:
                record = await key_store.find_key(conn, kept)
            except NotFound:
                record = None
            if record is not None and record.account_id == account.id and not record.revoked:
                return DemoKey(kept, kept_in)
        for old in await key_store.list_keys(conn, account.id):
            if not old.revoked:
                await key_store.revoke_key(conn, old.prefix, now)
        key, _ = await key_store.create_key(conn, account.id, now)
        # Kept before the key commits: a key that is not kept is never printed.
        replace_private(kept_in, key)
    return DemoKey(key, kept_in)
