"""The audit log: changes to an account's keys, webhooks and users, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.store.sql import Raw, reader


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    actor: str
    action: str
    subject: str
    detail: str | None
    created_at: datetime


_record = reader(AuditRecord)
_ADD = Raw(
    "INSERT INTO audit_log (account_id, actor, action, subject, detail, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6)"
)
_PAGE = (
    "SELECT id, actor, action, subject, detail, created_at FROM audit_log"
    " WHERE account_id = $1 {} ORDER BY id DESC LIMIT $2"
)
_FIRST_PAGE = Raw(_PAGE.format(""))
_NEXT_PAGE = Raw(_PAGE.format("AND id < $3"))


async def add(
    conn: AsyncConnection,
    account_id: int,
    actor: str,
    action: str,
    subject: str,
    now: datetime,
    detail: str | None = None,
) -> None:
    await _ADD.run(conn, account_id, actor, action, subject[:200], detail and detail[:500], now)


async def page(
    conn: AsyncConnection, account_id: int, *, limit: int, before: int | None = None
) -> tuple[list[AuditRecord], int | None]:
    """Up to ``limit`` entries older than ``before``, and where the next page starts."""
    if before is None:
        rows = await _FIRST_PAGE.rows(conn, account_id, limit + 1)
    else:
        rows = await _NEXT_PAGE.rows(conn, account_id, limit + 1, before)
    entries = [_record(row) for row in rows[:limit]]
    return entries, entries[-1].id if len(rows) > limit else None
