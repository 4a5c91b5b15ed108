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

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.store.models import BlacklistEntry, utcnow
from ileti.store.sql import is_postgres

blacklist = BlacklistEntry.__table__

# Written through the API; anything else came from the recipient.
SOURCE_API = "api"
# Entry ids are 32-bit; a page position beyond them means "from the newest".
_MAX_ID = 2**31 - 1


class Scope(StrEnum):
    ALL = "all"
    ADVERTISING = "advertising"


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


async def add(conn: AsyncConnection, account_id: int, number: str) -> None:
    """List ``number`` for every send; adding it again, or over an opt-out, is fine."""
    dialect_insert = postgresql_insert if is_postgres(conn) else sqlite_insert
    stmt = dialect_insert(blacklist).values(
        account_id=account_id,
        number=number,
        scope=Scope.ALL.value,
        source=SOURCE_API,
        created_at=utcnow(),
    )
    # One statement, so two concurrent adds cannot both insert.
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[blacklist.c.account_id, blacklist.c.number],
            set_={"scope": Scope.ALL.value},
        )
    )


async def remove(conn: AsyncConnection, account_id: int, number: str) -> Removal:
    entry = (blacklist.c.account_id == account_id) & (blacklist.c.number == number)
    removed = await conn.execute(delete(blacklist).where(entry, blacklist.c.source == SOURCE_API))
    if removed.rowcount:
        return Removal.REMOVED
    narrowed = await conn.execute(
        update(blacklist)
        .where(entry, blacklist.c.scope == Scope.ALL.value)
        .values(scope=Scope.ADVERTISING.value)
    )
    return Removal.NARROWED if narrowed.rowcount else Removal.NOT_LISTED


async def listed_page(
    conn: AsyncConnection, account_id: int, *, limit: int, before: int | None = None
) -> tuple[list[ListedNumber], int | None]:
    """Up to ``limit`` entries with ids below ``before``, newest first, and where the next page
    starts (None on the last page)."""
    stmt = select(
        blacklist.c.id,
        blacklist.c.number,
        blacklist.c.scope,
        blacklist.c.source,
        blacklist.c.created_at,
    ).where(blacklist.c.account_id == account_id)
    if before is not None and before <= _MAX_ID:
        stmt = stmt.where(blacklist.c.id < before)
    rows = (await conn.execute(stmt.order_by(blacklist.c.id.desc()).limit(limit + 1))).all()
    page = [ListedNumber(*row) for row in rows[:limit]]
    return page, page[-1].id if len(rows) > limit else None
