"""The demo account that ``ileti serve --demo`` shows a newcomer: an account with credits, an
active title that its OTPs go from, and a fresh key."""

from __future__ import annotations

from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.errors import NotFound
from ileti.domain.pricing import Balance
from ileti.store import accounts as account_store
from ileti.store import keys as key_store
from ileti.store.db import Database

DEMO_ACCOUNT = "demo"
DEMO_TITLE = "ILETI"
DEMO_CREDITS = 1000


async def ensure_demo(db: Database, clock: Clock = SYSTEM_CLOCK) -> str:
    """The demo account and title (made once), topped up when low, and a new key (older ones
    revoked): the key."""
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
        for old in await key_store.list_keys(conn, account.id):
            if not old.revoked:
                await key_store.revoke_key(conn, old.prefix, now)
        key, _ = await key_store.create_key(conn, account.id, now)
    return key
