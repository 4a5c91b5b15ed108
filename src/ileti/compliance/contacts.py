"""An account's contact groups: named lists of numbers (with optional names) to send to.

Numbers are kept in the normal form the API gives recipients, and only numbers that can
receive SMS are taken, so a group sends as its numbers were checked when they were added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ileti import codes
from ileti.codes import GatewayError
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.errors import AlreadyExists, NotFound
from ileti.domain.numbers import lookup
from ileti.store import contacts as store
from ileti.store.contacts import ContactRecord, GroupRecord, NewContact
from ileti.store.db import Database
from ileti.validation import has_control, has_text, invalid

__all__ = ["Added", "ContactLine", "ContactRecord", "Contacts", "GroupRecord", "Skipped"]

# A group is sent in one request, and a request takes at most this many recipients.
MAX_GROUP_SIZE = 100_000
NAME_LENGTH = 100


@dataclass(frozen=True, slots=True)
class ContactLine:
    """A number as someone gave it, with where (a line or a file's row) and optional names."""

    line: int
    number: str
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A line not added: what it said and why."""

    line: int
    number: str
    reason: str


@dataclass(frozen=True, slots=True)
class Added:
    added: int
    # Numbers the group had already, or that came twice.
    duplicates: int
    invalid: list[Skipped] = field(default_factory=list)


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

    async def create(self, account_id: int, name: object) -> GroupRecord:
        """A new, empty group; TS-1035 for a name that is empty, too long or taken."""
        chosen = _group_name(name)
        now = self.clock.now()
        async with self.db.write() as conn:
            try:
                group_id = await store.create_group(conn, account_id, chosen, now)
            except AlreadyExists:
                raise _taken() from None
        return GroupRecord(group_id, chosen, 0, now)

    async def rename(self, account_id: int, group_id: int, name: object) -> None:
        chosen = _group_name(name)
        async with self.db.write() as conn:
            try:
                renamed = await store.rename_group(conn, account_id, group_id, chosen)
            except AlreadyExists:
                raise _taken() from None
        if not renamed:
            raise NotFound("no such contact group")

    async def delete(self, account_id: int, group_id: int) -> None:
        """The group and its numbers."""
        async with self.db.write() as conn:
            if not await store.delete_group(conn, account_id, group_id):
                raise NotFound("no such contact group")

    async def members(
        self, account_id: int, group_id: int, *, limit: int = 100, after: int | None = None
    ) -> tuple[list[ContactRecord], int | None]:
        """A page of the group's contacts in the order they were added, and where the next
        starts (None on the last)."""
        async with self.db.read() as conn:
            if await store.group(conn, account_id, group_id) is None:
                raise NotFound("no such contact group")
            return await store.members(conn, group_id, limit=limit, after=after)

    async def add(self, account_id: int, group_id: int, lines: Sequence[ContactLine]) -> Added:
        """Adds the lines' numbers the group has not got. A line that is no number that can
        receive SMS, or whose name says nothing a person could read, is left out with its
        reason; nothing at all is added when the group would grow beyond what one send takes.
        """
        if not lines:
            raise invalid("numbers", "gives no number")
        fresh: dict[str, NewContact] = {}
        skipped: list[Skipped] = []
        repeated = 0
        for line in lines:
            found = lookup(line.number)
            if isinstance(found, str):
                skipped.append(Skipped(line.line, line.number, found))
                continue
            names = [line.first_name.strip(), line.last_name.strip()]
            if any(has_control(name) or len(name) > NAME_LENGTH for name in names):
                reason = f"has a name longer than {NAME_LENGTH} characters or a control character"
                skipped.append(Skipped(line.line, line.number, reason))
                continue
            if found.digits in fresh:
                repeated += 1
                continue
            first, last = (name or None for name in names)
            fresh[found.digits] = NewContact(found.digits, first, last)
        async with self.db.write() as conn:
            if await store.group(conn, account_id, group_id) is None:
                raise NotFound("no such contact group")
            await store.lock_group(conn, group_id)
            had = await store.present(conn, group_id, list(fresh))
            new = [contact for number, contact in fresh.items() if number not in had]
            size = await store.size(conn, group_id) + len(new)
            if size > MAX_GROUP_SIZE:
                raise GatewayError(
                    codes.TOO_MANY_RECIPIENTS,
                    f"A contact group holds at most {MAX_GROUP_SIZE:,} numbers;"
                    f" this would make it {size:,}.",
                )
            await store.add(conn, account_id, group_id, new, self.clock.now())
        return Added(len(new), repeated + len(had), skipped)

    async def remove(self, account_id: int, group_id: int, contact_ids: Sequence[int]) -> int:
        """Takes these contacts out of the account's group; how many went. NotFound, having
        taken nothing out, when an id is no contact of this group (another group's, another
        account's, or none)."""
        wanted = set(contact_ids)
        async with self.db.write() as conn:
            if await store.group(conn, account_id, group_id) is None:
                raise NotFound("no such contact group")
            if await store.remove(conn, group_id, list(wanted)) != len(wanted):
                # Leaving the transaction by the exception rolls the removal back.
                raise NotFound("no such contact in the group")
        return len(wanted)


def _group_name(name: object) -> str:
    if not isinstance(name, str) or not has_text(name):
        raise invalid("name", "is required")
    name = name.strip()
    if len(name) > NAME_LENGTH or has_control(name):
        raise invalid("name", f"has at most {NAME_LENGTH} characters and no control characters")
    return name


def _taken() -> GatewayError:
    return invalid("name", "the account has a group of that name already")
