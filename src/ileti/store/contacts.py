"""Contact groups and their numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.errors import AlreadyExists
from ileti.store.models import Contact, table_of
from ileti.store.sql import Insert, Raw, connector_of, reader

# The advisory lock that serialises changes to one group's numbers on PostgreSQL.
GROUP_LOCK_SPACE = 7002


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: int
    name: str
    size: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ContactRecord:
    id: int
    number: str
    first_name: str | None
    last_name: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewContact:
    number: str  # normalised
    first_name: str | None
    last_name: str | None


_group = reader(GroupRecord)
_contact = reader(ContactRecord)
_GROUPS = Raw(
    "SELECT g.id, g.name, (SELECT count(*) FROM contacts AS c WHERE c.group_id = g.id) AS size,"
    " g.created_at FROM contact_groups AS g WHERE g.account_id = $1 ORDER BY g.name"
)
_GROUP = Raw(
    "SELECT g.id, g.name, (SELECT count(*) FROM contacts AS c WHERE c.group_id = g.id) AS size,"
    " g.created_at FROM contact_groups AS g WHERE g.account_id = $1 AND g.id = $2"
)
_NUMBERS = Raw("SELECT number FROM contacts WHERE group_id = $1 ORDER BY id")
_CREATE = Raw(
    "INSERT INTO contact_groups (account_id, name, created_at) VALUES ($1, $2, $3) RETURNING id"
)
_RENAME = Raw("UPDATE contact_groups SET name = $3 WHERE account_id = $1 AND id = $2")
_EMPTY = Raw("DELETE FROM contacts WHERE group_id = $1")
_DELETE = Raw("DELETE FROM contact_groups WHERE account_id = $1 AND id = $2")
_MEMBERS = "SELECT id, number, first_name, last_name, created_at FROM contacts WHERE group_id = $1"
_FIRST_MEMBERS = Raw(_MEMBERS + " ORDER BY id LIMIT $2")
_NEXT_MEMBERS = Raw(_MEMBERS + " AND id > $3 ORDER BY id LIMIT $2")
_PRESENT = Raw("SELECT number FROM contacts WHERE group_id = $1 AND number = ANY($2)")
_SIZE = Raw("SELECT count(*) AS size FROM contacts WHERE group_id = $1")
_ADD = Insert(
    table_of(Contact),
    ("group_id", "account_id", "number", "first_name", "last_name", "created_at"),
    copy=True,
)
_REMOVE = Raw("DELETE FROM contacts WHERE group_id = $1 AND id = ANY($2)")


async def groups(conn: AsyncConnection, account_id: int) -> list[GroupRecord]:
    return [_group(row) for row in await _GROUPS.rows(conn, account_id)]


async def group(conn: AsyncConnection, account_id: int, group_id: int) -> GroupRecord | None:
    """The account's group by id; None for another account's or none."""
    row = await _GROUP.first(conn, account_id, group_id)
    return _group(row) if row else None


async def numbers(conn: AsyncConnection, group_id: int) -> list[str]:
    return [row["number"] for row in await _NUMBERS.rows(conn, group_id)]


async def create_group(conn: AsyncConnection, account_id: int, name: str, now: datetime) -> int:
    try:
        [row] = await _CREATE.rows(conn, account_id, name, now)
    except IntegrityError as exc:
        raise AlreadyExists(f"the account has a group named {name!r}") from exc
    group_id: int = row["id"]
    return group_id


async def rename_group(conn: AsyncConnection, account_id: int, group_id: int, name: str) -> bool:
    """False when the account has no such group."""
    try:
        return bool(await _RENAME.run(conn, account_id, group_id, name))
    except IntegrityError as exc:
        raise AlreadyExists(f"the account has a group named {name!r}") from exc


async def delete_group(conn: AsyncConnection, account_id: int, group_id: int) -> bool:
    """The group and its numbers; False when the account has no such group."""
    if await group(conn, account_id, group_id) is None:
        return False
    await _EMPTY.run(conn, group_id)
    return bool(await _DELETE.run(conn, account_id, group_id))


async def members(
    conn: AsyncConnection, group_id: int, *, limit: int, after: int | None = None
) -> tuple[list[ContactRecord], int | None]:
    """Up to ``limit`` contacts in the order they were added, from after ``after``, and where
    the next page starts (None on the last page)."""
    if after is None:
        rows = await _FIRST_MEMBERS.rows(conn, group_id, limit + 1)
    else:
        rows = await _NEXT_MEMBERS.rows(conn, group_id, limit + 1, after)
    page = [_contact(row) for row in rows[:limit]]
    return page, page[-1].id if len(rows) > limit else None


async def lock_group(conn: AsyncConnection, group_id: int) -> None:
    """Until the transaction ends, no other one changes this group's numbers."""
    await connector_of(conn).lock(conn, GROUP_LOCK_SPACE, group_id)


async def size(conn: AsyncConnection, group_id: int) -> int:
    row = await _SIZE.first(conn, group_id)
    return int(row["size"]) if row else 0


async def present(conn: AsyncConnection, group_id: int, numbers: Sequence[str]) -> set[str]:
    """Which of ``numbers`` the group has already."""
    return {row["number"] for row in await _PRESENT.rows(conn, group_id, list(numbers))}


async def add(
    conn: AsyncConnection,
    account_id: int,
    group_id: int,
    contacts: Sequence[NewContact],
    now: datetime,
) -> None:
    """Contacts the group has not got (the caller leaves out those it has)."""
    stamp = connector_of(conn).stamp(now)
    await _ADD.run_rows(
        conn,
        [(group_id, account_id, c.number, c.first_name, c.last_name, stamp) for c in contacts],
        converted=True,
    )


async def remove(conn: AsyncConnection, group_id: int, contact_ids: Sequence[int]) -> int:
    """Takes the group's contacts of these ids out of it (ids of any other group's are left);
    how many went."""
    return await _REMOVE.run(conn, group_id, list(contact_ids))
