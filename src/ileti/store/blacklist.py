"""An account's blacklist as the API manages it.

Two sources write here: the account, through the API (scope ``all``: no message at all), and the
recipient, by answering ``RET`` or ``IPTAL`` (scope ``advertising``; see ``store.opt_out``). The
API may widen a recipient's opt-out to ``all`` but never erases it: removing such a number only
narrows it back to what the recipient asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.store.sql import Raw, reader

# Written through the API; anything else came from the recipient.
SOURCE_API = "api"
# Entry ids are 32-bit; a page position beyond them means "from the newest".
_MAX_ID = 2**31 - 1


class Removal(StrEnum):
    REMOVED = "removed"
    # A recipient's own opt-out stays; only the account's widening of it went.
    NARROWED = "narrowed"
    # Not listed, or listed only by the recipient's own opt-out, which the API cannot undo.
    NOT_LISTED = "not_listed"


@dataclass(frozen=True, slots=True)
class ListedNumber:
    id: int
    number: str
    scope: str
    source: str
    created_at: datetime


_listed = reader(ListedNumber)
# One statement, so two concurrent adds cannot both insert.
_ADD = Raw(
    "INSERT INTO blacklist (account_id, number, scope, source, created_at)"
    " VALUES ($1, $2, 'all', $3, $4)"
    " ON CONFLICT (account_id, number) DO UPDATE SET scope = 'all'"
)
_REMOVE = Raw("DELETE FROM blacklist WHERE account_id = $1 AND number = $2 AND source = $3")
_NARROW = Raw(
    "UPDATE blacklist SET scope = 'advertising'"
    " WHERE account_id = $1 AND number = $2 AND scope = 'all'"
)
_PAGE = (
    "SELECT id, number, scope, source, created_at FROM blacklist WHERE account_id = $1 {}"
    " ORDER BY id DESC LIMIT $2"
)
_FIRST_PAGE = Raw(_PAGE.format(""))
_NEXT_PAGE = Raw(_PAGE.format("AND id < $3"))


async def add(conn: AsyncConnection, account_id: int, number: str, now: datetime) -> None:
    """List ``number`` for every send; adding it again, or over an opt-out, is fine."""
    await _ADD.run(conn, account_id, number, SOURCE_API, now)


async def remove(conn: AsyncConnection, account_id: int, number: str) -> Removal:
    if await _REMOVE.run(conn, account_id, number, SOURCE_API):
        return Removal.REMOVED
    narrowed = await _NARROW.run(conn, account_id, number)
    return Removal.NARROWED if narrowed else Removal.NOT_LISTED


async def listed_page(
    conn: AsyncConnection, account_id: int, *, limit: int, before: int | None = None
) -> tuple[list[ListedNumber], int | None]:
    """Up to ``limit`` entries with ids below ``before``, newest first, and where the next page
    starts (None on the last page)."""
    if before is not None and before <= _MAX_ID:
        rows = await _NEXT_PAGE.rows(conn, account_id, limit + 1, before)
    else:
        rows = await _FIRST_PAGE.rows(conn, account_id, limit + 1)
    page = [_listed(row) for row in rows[:limit]]
    return page, page[-1].id if len(rows) > limit else None
