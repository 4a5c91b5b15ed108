"""Panel sessions (by the hash of the cookie's token) and failed logins."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.store.sql import Raw, reader


@dataclass(frozen=True, slots=True)
class SessionRecord:
    token_hash: str
    user_id: int
    stage: str
    created_ms: int
    seen_ms: int


_record = reader(SessionRecord)
_INSERT = Raw(
    "INSERT INTO panel_sessions (token_hash, user_id, stage, created_ms, seen_ms)"
    " VALUES ($1, $2, $3, $4, $4)"
)
_FIND = Raw(
    "SELECT token_hash, user_id, stage, created_ms, seen_ms FROM panel_sessions"
    " WHERE token_hash = $1"
)
_TOUCH = Raw("UPDATE panel_sessions SET seen_ms = $2 WHERE token_hash = $1")
_DELETE = Raw("DELETE FROM panel_sessions WHERE token_hash = $1")
_DELETE_OF_USER = Raw("DELETE FROM panel_sessions WHERE user_id = $1")
_DELETE_IDLE = Raw("DELETE FROM panel_sessions WHERE seen_ms < $1")
_ADD_FAILURE = Raw("INSERT INTO login_failures (subject, at_ms) VALUES ($1, $2)")
_FAILURES = Raw(
    "SELECT count(*) AS n, max(at_ms) AS last_ms FROM login_failures"
    " WHERE subject = $1 AND at_ms >= $2"
)
_CLEAR_FAILURES = Raw("DELETE FROM login_failures WHERE subject = $1")
_DELETE_OLD_FAILURES = Raw("DELETE FROM login_failures WHERE at_ms < $1")


async def insert(
    conn: AsyncConnection, token_hash: str, user_id: int, stage: str, now_ms: int
) -> None:
    await _INSERT.run(conn, token_hash, user_id, stage, now_ms)


async def find(conn: AsyncConnection, token_hash: str) -> SessionRecord | None:
    row = await _FIND.first(conn, token_hash)
    return _record(row) if row else None


async def touch(conn: AsyncConnection, token_hash: str, now_ms: int) -> None:
    await _TOUCH.run(conn, token_hash, now_ms)


async def delete(conn: AsyncConnection, token_hash: str) -> None:
    await _DELETE.run(conn, token_hash)


async def delete_of_user(conn: AsyncConnection, user_id: int) -> None:
    await _DELETE_OF_USER.run(conn, user_id)


async def forget_before(
    conn: AsyncConnection, idle_before_ms: int, failures_before_ms: int
) -> None:
    """Drops sessions idle since before the first time, failures older than the second."""
    await _DELETE_IDLE.run(conn, idle_before_ms)
    await _DELETE_OLD_FAILURES.run(conn, failures_before_ms)


async def add_failure(conn: AsyncConnection, subject: str, now_ms: int) -> None:
    await _ADD_FAILURE.run(conn, subject, now_ms)


async def failures_since(conn: AsyncConnection, subject: str, since_ms: int) -> tuple[int, int]:
    """How many failures since ``since_ms``, and when the last was (0 with none)."""
    row = await _FAILURES.first(conn, subject, since_ms)
    if row is None:
        return 0, 0
    return int(row["n"] or 0), int(row["last_ms"] or 0)


async def clear_failures(conn: AsyncConnection, subject: str) -> None:
    await _CLEAR_FAILURES.run(conn, subject)
