"""Panel users: found by email (kept in lower case), listed by account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.errors import AlreadyExists, NotFound
from ileti.store.sql import Raw, reader


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    account_id: int
    account_name: str
    account_status: str
    # Where the account stands, for the panel's frame: a reseller's customer or not, and its
    # main balance against its low-balance threshold.
    account_parent_id: int | None
    account_shared_balance: bool
    account_credits: int
    account_low_balance_threshold: int | None
    email: str
    role: str
    password_hash: str
    # Sealed with the installation's key; None until the user starts enrolling.
    totp_secret: str | None
    totp_enabled: bool
    created_at: datetime


_record = reader(UserRecord)
# A reseller's suspension holds its customers' users too: a child is as active as its parent.
_SELECT = (
    "SELECT u.id, u.account_id, a.name AS account_name,"
    " CASE WHEN p.status IS NULL OR p.status = 'active' THEN a.status ELSE p.status END"
    " AS account_status, a.parent_id AS account_parent_id,"
    " a.shared_balance AS account_shared_balance, a.credits AS account_credits,"
    " a.low_balance_threshold AS account_low_balance_threshold, u.email,"
    " u.role, u.password_hash, u.totp_secret, u.totp_enabled, u.created_at"
    " FROM users AS u JOIN accounts AS a ON a.id = u.account_id"
    " LEFT JOIN accounts AS p ON p.id = a.parent_id"
)
_BY_EMAIL = Raw(_SELECT + " WHERE u.email = $1")
_BY_ID = Raw(_SELECT + " WHERE u.id = $1")
_OF_ACCOUNT = Raw(_SELECT + " WHERE u.account_id = $1 ORDER BY u.id")
_INSERT = Raw(
    "INSERT INTO users (account_id, email, password_hash, role, totp_enabled, created_at)"
    " VALUES ($1, $2, $3, $4, FALSE, $5) ON CONFLICT (email) DO NOTHING"
)
_SET_PASSWORD = Raw("UPDATE users SET password_hash = $2 WHERE id = $1")
_SET_TOTP = Raw("UPDATE users SET totp_secret = $2, totp_enabled = $3 WHERE id = $1")
# Only a later step than the last one used: two logins racing with one code, one wins.
_USE_STEP = Raw(
    "UPDATE users SET totp_last_step = $2"
    " WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)"
)
_SET_ROLE = Raw("UPDATE users SET role = $2 WHERE id = $1")
_DELETE = Raw("DELETE FROM users WHERE id = $1")
_OWNERS = Raw("SELECT count(*) AS n FROM users WHERE account_id = $1 AND role = 'owner'")


def email_key(email: str) -> str:
    return email.strip().lower()


async def insert(
    conn: AsyncConnection, account_id: int, email: str, password_hash: str, role: str, now: datetime
) -> UserRecord:
    if not await _INSERT.run(conn, account_id, email_key(email), password_hash, role, now):
        raise AlreadyExists(f"a user {email_key(email)} exists already")
    return await by_email(conn, email)


async def by_email(conn: AsyncConnection, email: str) -> UserRecord:
    row = await _BY_EMAIL.first(conn, email_key(email))
    if row is None:
        raise NotFound("no such user")
    return _record(row)


async def by_id(conn: AsyncConnection, user_id: int) -> UserRecord:
    row = await _BY_ID.first(conn, user_id)
    if row is None:
        raise NotFound("no such user")
    return _record(row)


async def of_account(conn: AsyncConnection, account_id: int) -> list[UserRecord]:
    return [_record(row) for row in await _OF_ACCOUNT.rows(conn, account_id)]


async def owners(conn: AsyncConnection, account_id: int) -> int:
    row = await _OWNERS.first(conn, account_id)
    return int(row["n"]) if row else 0


async def set_password(conn: AsyncConnection, user_id: int, password_hash: str) -> None:
    await _SET_PASSWORD.run(conn, user_id, password_hash)


async def set_totp(conn: AsyncConnection, user_id: int, sealed: str | None, enabled: bool) -> None:
    await _SET_TOTP.run(conn, user_id, sealed, enabled)


async def use_totp_step(conn: AsyncConnection, user_id: int, step: int) -> bool:
    """Records ``step`` as used; False when it (or a later one) was used already."""
    return bool(await _USE_STEP.run(conn, user_id, step))


async def set_role(conn: AsyncConnection, user_id: int, role: str) -> None:
    await _SET_ROLE.run(conn, user_id, role)


async def delete(conn: AsyncConnection, user_id: int) -> None:
    await _DELETE.run(conn, user_id)
