"""An account's contact groups: named lists of numbers (with optional names) to send to."""

from __future__ import annotations

from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.errors import NotFound
from ileti.store import contacts as store
from ileti.store.contacts import GroupRecord
from ileti.store.db import Database

__all__ = ["Contacts", "GroupRecord"]


class Contacts:
    def __init__(self, db: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db = db
        self.clock = clock

    async def groups(self, account_id: int) -> list[GroupRecord]:
        async with self.db.read() as conn:
            return await store.groups(conn, account_id)

    async def group(self, account_id: int, group_id: int) -> GroupRecord:
        """The account's group; NotFound for another account's, as for none."""
        async with self.db.read() as conn:
            found = await store.group(conn, account_id, group_id)
        if found is None:
            raise NotFound("no such contact group")
        return found

    async def numbers(self, account_id: int, group_id: int) -> list[str]:
        """The numbers of the account's group (NotFound for another account's)."""
        async with self.db.read() as conn:
            if await store.group(conn, account_id, group_id) is None:
                raise NotFound("no such contact group")
            return await store.numbers(conn, group_id)
