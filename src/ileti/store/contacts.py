"""Contact groups and their numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.store.sql import Raw, reader


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: int
    name: str
    size: int
    created_at: datetime


_group = reader(GroupRecord)
_GROUPS = Raw(
    "SELECT g.id, g.name, (SELECT count(*) FROM contacts AS c WHERE c.group_id = g.id) AS size,"
    " g.created_at FROM contact_groups AS g WHERE g.account_id = $1 ORDER BY g.name"
)
_GROUP = Raw(
    "SELECT g.id, g.name, (SELECT count(*) FROM contacts AS c WHERE c.group_id = g.id) AS size,"
    " g.created_at FROM contact_groups AS g WHERE g.account_id = $1 AND g.id = $2"
)
_NUMBERS = Raw("SELECT number FROM contacts WHERE group_id = $1 ORDER BY id")


async def groups(conn: AsyncConnection, account_id: int) -> list[GroupRecord]:
    return [_group(row) for row in await _GROUPS.rows(conn, account_id)]


async def group(conn: AsyncConnection, account_id: int, group_id: int) -> GroupRecord | None:
    """The account's group by id; None for another account's or none."""
    row = await _GROUP.first(conn, account_id, group_id)
    return _group(row) if row else None


async def numbers(conn: AsyncConnection, group_id: int) -> list[str]:
    return [row["number"] for row in await _NUMBERS.rows(conn, group_id)]
