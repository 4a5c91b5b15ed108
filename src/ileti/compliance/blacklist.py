"""An account's blacklist: numbers it never sends to, and its recipients' own opt-outs.

The account lists a number for every send; a recipient who answered ``RET`` or ``IPTAL`` is
listed for Advertising only. The account may widen a recipient's opt-out but never erase it:
removing such a number narrows it back to what the recipient asked for.
"""

from __future__ import annotations

from ileti import codes
from ileti.codes import GatewayError
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.store import accounts as account_store
from ileti.store import blacklist as store
from ileti.store.blacklist import SOURCE_API, ListedNumber, Removal
from ileti.store.db import Database
from ileti.validation import phone_number

__all__ = ["SOURCE_API", "Blacklist", "ListedNumber", "Removal"]


class Blacklist:
    def __init__(self, db: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db = db
        self.clock = clock

    async def add(self, account_id: int, number: object) -> str:
        """List a number for every send; listing it again changes nothing. Its normal form."""
        digits = phone_number(number, "number").digits
        async with self.db.write() as conn:
            await store.add(conn, account_id, digits, self.clock.now())
        return digits

    async def remove(self, account_id: int, number: object) -> str:
        """Take a number the account listed off its list (a recipient's opt-out stays)."""
        digits, _ = await self.take_off(account_id, number)
        return digits

    async def take_off(self, account_id: int, number: object) -> tuple[str, Removal]:
        """As ``remove``, saying whether the number went, or was narrowed back to the
        recipient's own opt-out (Advertising only)."""
        digits = phone_number(number, "number").digits
        async with self.db.write() as conn:
            removal = await store.remove(conn, account_id, digits)
        if removal is Removal.NOT_LISTED:
            raise GatewayError(
                codes.NOT_FOUND,
                f"{digits} is not on the account's blacklist"
                " (a recipient's own RET opt-out stays).",
            )
        return digits, removal

    async def page(
        self, account_id: int, limit: int, before: int | None = None
    ) -> tuple[list[ListedNumber], int | None]:
        """Listed numbers, newest first, and where the next page starts (None: the last)."""
        async with self.db.read() as conn:
            return await store.listed_page(conn, account_id, limit=limit, before=before)

    # The operator's calls, for an account named by its name (``NotFound`` if there is none),
    # with the same rules as the account's own.

    async def add_for(self, account: str, number: object) -> str:
        return await self.add(await self._account_id(account), number)

    async def remove_for(self, account: str, number: object) -> str:
        return await self.remove(await self._account_id(account), number)

    async def listed(self, account: str, limit: int) -> list[ListedNumber]:
        """Up to ``limit`` listed numbers, newest first."""
        account_id = await self._account_id(account)
        found: list[ListedNumber] = []
        before: int | None = None
        while len(found) < limit:
            page, before = await self.page(account_id, min(limit - len(found), 1000), before)
            found += page
            if before is None:
                break
        return found

    async def _account_id(self, account: str) -> int:
        async with self.db.read() as conn:
            return (await account_store.find_account(conn, account)).id
