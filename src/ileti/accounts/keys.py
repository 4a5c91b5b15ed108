"""API keys as the operator makes and manages them; a key is shown once, when it is made, and
stored only as its hash."""

from __future__ import annotations

from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.keys import normalise_networks
from ileti.domain.permissions import Permission
from ileti.store import accounts as account_store
from ileti.store import audit
from ileti.store import keys as store
from ileti.store.db import Database
from ileti.store.keys import KeyRecord

__all__ = ["KeyRecord", "Keys", "NotANetwork"]


class NotANetwork(ValueError):
    """A line of an allowlist that is no IP address or network."""

    def __init__(self, line: str) -> None:
        super().__init__(f"not an IP address or network: {line!r}")
        self.line = line


class Keys:
    def __init__(self, db: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db = db
        self.clock = clock
        # Account id → its panel key's id: made once, never changed.
        self._panel_keys: dict[int, int] = {}

    async def create(
        self,
        account: str,
        *,
        deny: set[Permission] | None = None,
        allow: set[Permission] | None = None,
        allow_ips: list[str] | None = None,
        per_minute: int | None = None,
    ) -> tuple[str, KeyRecord]:
        """A new key for the account: the key itself (this once) and its record. ``allow``:
        permissions a key holds only when asked for (``manage_subaccounts``)."""
        async with self.db.write() as conn:
            owner = await account_store.find_account(conn, account)
            return await store.create_key(
                conn,
                owner.id,
                self.clock.now(),
                deny=deny,
                allow=allow,
                allow_ips=allow_ips,
                per_minute=per_minute,
            )

    async def of(self, account: str) -> list[KeyRecord]:
        async with self.db.read() as conn:
            owner = await account_store.find_account(conn, account)
            return await store.list_keys(conn, owner.id)

    async def revoke(self, key: str) -> KeyRecord:
        """Revoke a key (named by itself or its prefix); it stops working within the cache's
        second."""
        async with self.db.write() as conn:
            return await store.revoke_key(conn, key, self.clock.now())

    async def switch_api(self, key: str, enabled: bool) -> None:
        async with self.db.write() as conn:
            await store.set_api_enabled(conn, key, enabled)

    async def panel_key(self, account_id: int) -> int:
        """The id of the key the account's panel sends are recorded under (made on first use)."""
        key_id = self._panel_keys.get(account_id)
        if key_id is None:
            async with self.db.write() as conn:
                key_id = await store.panel_key(conn, account_id, self.clock.now())
            self._panel_keys[account_id] = key_id
        return key_id

    # An account's own keys, as its owners manage them in the panel: named by id, another
    # account's key is not found; every change is in the audit log, with the key's prefix.

    async def of_account(self, account_id: int) -> list[KeyRecord]:
        async with self.db.read() as conn:
            return await store.list_keys(conn, account_id)

    async def key_of(self, account_id: int, key_id: int) -> KeyRecord:
        async with self.db.read() as conn:
            return await store.key_of_account(conn, account_id, key_id)

    async def create_for(
        self,
        account_id: int,
        *,
        permissions: set[Permission],
        allow_ips: list[str],
        per_minute: int | None,
        actor: str,
    ) -> tuple[str, KeyRecord]:
        """A new key with those permissions: the key itself (this once) and its record."""
        for line in allow_ips:
            try:
                normalise_networks([line])
            except ValueError:
                raise NotANetwork(line) from None
        async with self.db.write() as conn:
            now = self.clock.now()
            key, record = await store.create_key(
                conn,
                account_id,
                now,
                deny=set(Permission) - permissions,
                allow=permissions,
                allow_ips=allow_ips,
                per_minute=per_minute,
            )
            detail = ", ".join(p.value for p in Permission if p in record.permissions)
            await audit.add(conn, account_id, actor, "key.create", record.prefix, now, detail)
        return key, record

    async def switch_api_of(
        self, account_id: int, key_id: int, enabled: bool, *, actor: str
    ) -> KeyRecord:
        async with self.db.write() as conn:
            record = await store.key_of_account(conn, account_id, key_id)
            await store.set_api_enabled(conn, record.prefix, enabled)
            action = "key.enable" if enabled else "key.disable"
            await audit.add(conn, account_id, actor, action, record.prefix, self.clock.now())
        return record

    async def revoke_of(self, account_id: int, key_id: int, *, actor: str) -> KeyRecord:
        """Revokes the key (it stops working within the cache's second); revoked stays so."""
        async with self.db.write() as conn:
            record = await store.key_of_account(conn, account_id, key_id)
            if record.revoked:
                return record
            now = self.clock.now()
            revoked = await store.revoke_key(conn, record.prefix, now)
            await audit.add(conn, account_id, actor, "key.revoke", record.prefix, now)
        return revoked
