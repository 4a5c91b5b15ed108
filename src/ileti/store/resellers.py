"""A reseller's child accounts: made under it, and read only through it.

A child is read together with its parent (``parent_id = $1``), so another account, the parent
itself or another reseller's child reads exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.errors import NotFound
from ileti.store.sql import Raw, reader


@dataclass(frozen=True, slots=True)
class ChildView:
    id: int
    name: str
    status: str
    shared_balance: bool
    # Credits an Istanbul day a shared-balance child may spend (None: no cap).
    daily_cap: int | None
    # Its own balances (a shared-balance child's stay at zero: it spends its parent's).
    credits: int
    international_kurus: int
    low_balance_threshold: int | None
    created_at: datetime
    # When its newest message was created; None before its first.
    last_activity: datetime | None

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class Lineage:
    """Where an account stands: its parent (None: none), and what a child of it inherits."""

    id: int
    parent_id: int | None
    shared_balance: bool
    international_enabled: bool


_child = reader(ChildView)
# The newest message by the (account_id, id) index: one row read per child.
_CHILD = (
    "SELECT a.id, a.name, a.status, a.shared_balance, a.daily_cap, a.credits,"
    " a.international_kurus, a.low_balance_threshold, a.created_at,"
    " (SELECT m.created_at FROM messages AS m WHERE m.account_id = a.id"
    " ORDER BY m.id DESC LIMIT 1) AS last_activity"
    " FROM accounts AS a WHERE a.parent_id = $1"
)
_CHILDREN = Raw(_CHILD + " ORDER BY a.id")
_CHILD_BY_ID = Raw(_CHILD + " AND a.id = $2")
_CHILD_BY_NAME = Raw(_CHILD + " AND a.name = $2")
_lineage = reader(Lineage)
_LINEAGE = Raw(
    "SELECT id, parent_id, shared_balance, international_enabled FROM accounts WHERE id = $1"
)
_ADOPT = Raw(
    "UPDATE accounts SET parent_id = $2, shared_balance = $3, daily_cap = $4,"
    " international_enabled = $5 WHERE id = $1"
)
_SET_DAILY_CAP = Raw("UPDATE accounts SET daily_cap = $2 WHERE id = $1")
_PARENT_NAMES = Raw(
    "SELECT c.id, p.name FROM accounts AS c JOIN accounts AS p ON p.id = c.parent_id"
)


async def lineage(conn: AsyncConnection, account_id: int) -> Lineage:
    row = await _LINEAGE.first(conn, account_id)
    if row is None:
        raise NotFound(f"no account {account_id}")
    return _lineage(row)


async def adopt(
    conn: AsyncConnection,
    child_id: int,
    parent: Lineage,
    *,
    shared_balance: bool,
    daily_cap: int | None,
) -> None:
    """Makes a new account ``parent``'s child, sending abroad as its parent may."""
    await _ADOPT.run(
        conn, child_id, parent.id, shared_balance, daily_cap, parent.international_enabled
    )


async def children(conn: AsyncConnection, parent_id: int) -> list[ChildView]:
    return [_child(row) for row in await _CHILDREN.rows(conn, parent_id)]


async def child_by_id(conn: AsyncConnection, parent_id: int, child_id: int) -> ChildView:
    row = await _CHILD_BY_ID.first(conn, parent_id, child_id)
    if row is None:
        raise NotFound("no such child account")
    return _child(row)


async def child_by_name(conn: AsyncConnection, parent_id: int, name: str) -> ChildView:
    row = await _CHILD_BY_NAME.first(conn, parent_id, name)
    if row is None:
        raise NotFound("no such child account")
    return _child(row)


async def set_daily_cap(conn: AsyncConnection, child_id: int, daily_cap: int | None) -> None:
    await _SET_DAILY_CAP.run(conn, child_id, daily_cap)


async def parent_names(conn: AsyncConnection) -> dict[int, str]:
    """Each child account's id with its parent's name."""
    return {row["id"]: row["name"] for row in await _PARENT_NAMES.rows(conn)}
