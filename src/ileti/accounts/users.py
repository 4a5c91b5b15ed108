"""The people who log into the panel for an account: added, listed, given a new password and
removed by the operator (``ileti user``) or by an account's owner (the panel). Passwords are
generated, shown once and kept only as Argon2 hashes; every change lands in the audit log."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.errors import NotFound
from ileti.domain.passwords import hash_password, new_password
from ileti.domain.permissions import Role
from ileti.store import accounts as account_store
from ileti.store import audit
from ileti.store import panel_sessions as session_store
from ileti.store import users as store
from ileti.store.db import Database
from ileti.store.users import UserRecord

# The operator's command line, as the audit log names it.
OPERATOR = "operator"


class LastOwner(ValueError):
    """An account keeps at least one owner once it has one."""


class OwnersOwnPassword(ValueError):
    """An owner's password is not reset by another owner: only by the operator."""


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    account_id: int
    account_name: str
    email: str
    role: Role
    totp_enabled: bool
    created_at: datetime


def view_of(record: UserRecord) -> UserView:
    return UserView(
        id=record.id,
        account_id=record.account_id,
        account_name=record.account_name,
        email=record.email,
        role=Role(record.role),
        totp_enabled=record.totp_enabled,
        created_at=record.created_at,
    )


def _valid_email(email: str) -> str:
    email = store.email_key(email)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        raise ValueError(f"not an email address: {email!r}")
    return email


class Users:
    def __init__(self, db: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db = db
        self.clock = clock

    async def add(
        self, account: str, email: str, role: Role = Role.MEMBER, *, actor: str = OPERATOR
    ) -> tuple[UserView, str]:
        """A new user of the account named ``account``, and their password (shown once)."""
        async with self.db.read() as conn:
            owner = await account_store.find_account(conn, account)
        return await self.add_to(owner.id, email, role, actor=actor)

    async def add_to(
        self, account_id: int, email: str, role: Role, *, actor: str
    ) -> tuple[UserView, str]:
        email = _valid_email(email)
        password = new_password()
        # Argon2 is slow on purpose (tens of ms): off the event loop.
        password_hash = await asyncio.to_thread(hash_password, password)
        async with self.db.write() as conn:
            now = self.clock.now()
            record = await store.insert(conn, account_id, email, password_hash, role.value, now)
            await audit.add(conn, account_id, actor, "user.add", email, now, role.value)
        return view_of(record), password

    async def of(self, account: str) -> list[UserView]:
        async with self.db.read() as conn:
            owner = await account_store.find_account(conn, account)
            return [view_of(r) for r in await store.of_account(conn, owner.id)]

    async def of_account(self, account_id: int) -> list[UserView]:
        async with self.db.read() as conn:
            return [view_of(r) for r in await store.of_account(conn, account_id)]

    async def reset_password(
        self,
        email: str,
        *,
        account_id: int | None = None,
        actor: str = OPERATOR,
        members_only: bool = False,
    ) -> str:
        """A new password for the user (shown once); their sessions end. With ``account_id``,
        only a user of that account (an owner resetting a member's) is found; with
        ``members_only``, an owner's is refused."""
        password = new_password()
        # Argon2 is slow on purpose (tens of ms): off the event loop.
        password_hash = await asyncio.to_thread(hash_password, password)
        async with self.db.write() as conn:
            record = await self._find(conn, email, account_id)
            if members_only and record.role == Role.OWNER:
                raise OwnersOwnPassword(f"{record.email} is an owner")
            await store.set_password(conn, record.id, password_hash)
            await session_store.delete_of_user(conn, record.id)
            await audit.add(
                conn,
                record.account_id,
                actor,
                "user.reset_password",
                record.email,
                self.clock.now(),
            )
        return password

    async def remove(
        self, email: str, *, account_id: int | None = None, actor: str = OPERATOR
    ) -> None:
        """Removes the user and ends their sessions; an account's last owner stays."""
        async with self.db.write() as conn:
            record = await self._find(conn, email, account_id)
            if record.role == Role.OWNER and await store.owners(conn, record.account_id) <= 1:
                raise LastOwner(f"{record.email} is the account's last owner")
            await session_store.delete_of_user(conn, record.id)
            await store.delete(conn, record.id)
            await audit.add(
                conn, record.account_id, actor, "user.remove", record.email, self.clock.now()
            )

    async def _find(self, conn: AsyncConnection, email: str, account_id: int | None) -> UserRecord:
        record = await store.by_email(conn, email)
        if account_id is not None and record.account_id != account_id:
            raise NotFound("no such user")
        return record
