"""Who is using the panel: a password, then a TOTP code for users who enrolled, then a
session whose token only the browser holds (kept here as its hash).

Failed logins slow down per address and per user: after a few, each further try must wait
twice as long as the one before (up to 15 minutes), counted in the database so that every
API process sees the same count.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain import totp
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.errors import NotFound
from ileti.domain.passwords import hash_password, verify_password
from ileti.domain.permissions import Role
from ileti.store import panel_sessions as store
from ileti.store import users as user_store
from ileti.store.db import Database
from ileti.store.keyring import Keyring
from ileti.store.users import UserRecord

# Failures forgiven before waits begin, and the longest wait.
ADDRESS_FREE_TRIES = 10
USER_FREE_TRIES = 3
LONGEST_WAIT_SECONDS = 900.0
# Failures older than this are not counted (the worker's sweeper forgets them).
FAILURE_WINDOW_MS = 3_600_000
# A session's last-seen time is written at most this often.
TOUCH_EVERY_MS = 60_000
ISSUER = "ileti"
# Compared against when the email is unknown, so that its answer takes as long as a wrong password.
_UNKNOWN_USER_HASH = hash_password(secrets.token_urlsafe(16))


class Stage(StrEnum):
    # Password accepted; the TOTP code is next.
    TOTP = "totp"
    # Password accepted; this user must enrol a TOTP secret before anything else.
    ENROL = "enrol"
    IN = "in"


class LoginRefused(Exception):
    """Wrong email, password or code (one message for all), or too many tries."""

    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("login refused")
        # Seconds to wait when refused for too many tries.
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class PanelUser:
    id: int
    account_id: int
    account_name: str
    email: str
    role: Role
    totp_enabled: bool
    # The account is a reseller's customer: it has no customers of its own.
    is_customer: bool
    # It spends its reseller's balance: it has none of its own to watch.
    shares_balance: bool
    # Its main balance, and the threshold below which it is low (None: not watched).
    credits: int
    low_balance_threshold: int | None

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def low_balance(self) -> bool:
        """The account's own main balance is below its threshold (the panel's banner)."""
        threshold = self.low_balance_threshold
        return threshold is not None and not self.shares_balance and self.credits < threshold


@dataclass(frozen=True, slots=True)
class Visit:
    """A session as a request finds it."""

    token: str
    stage: Stage
    user: PanelUser


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    uri: str


def _user(record: UserRecord) -> PanelUser:
    return PanelUser(
        id=record.id,
        account_id=record.account_id,
        account_name=record.account_name,
        email=record.email,
        role=Role(record.role),
        totp_enabled=record.totp_enabled,
        is_customer=record.account_parent_id is not None,
        shares_balance=record.account_shared_balance,
        credits=record.account_credits,
        low_balance_threshold=record.account_low_balance_threshold,
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _wait_seconds(failures: int, free: int) -> float:
    if failures < free:
        return 0.0
    return min(2.0 ** (failures - free), LONGEST_WAIT_SECONDS)


class Logins:
    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        *,
        require_totp: bool,
        idle_minutes: float,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.require_totp = require_totp
        self.idle_ms = int(idle_minutes * 60_000)
        self.clock = clock

    async def password(self, email: str, password: str, address: str) -> Visit:
        """The first step: a session at ``TOTP`` or ``ENROL`` stage, or ``IN`` when no second
        factor is needed."""
        subjects = (f"address:{address}", f"user:{user_store.email_key(email)}")
        await self._refuse_while_throttled(subjects)
        async with self.db.read() as conn:
            try:
                record: UserRecord | None = await user_store.by_email(conn, email)
            except NotFound:
                record = None
        stored = record.password_hash if record else _UNKNOWN_USER_HASH
        matched = await asyncio.to_thread(verify_password, stored, password)
        if record is None or not matched or record.account_status != "active":
            await self._fail(subjects)
            raise LoginRefused()
        if record.totp_enabled:
            stage = Stage.TOTP
        elif self.require_totp:
            stage = Stage.ENROL
        else:
            stage = Stage.IN
        async with self.db.write() as conn:
            await store.clear_failures(conn, subjects[1])
            return await self._open(conn, record, stage)

    async def code(self, visit: Visit, code: str, address: str) -> Visit:
        """The second step: a TOTP code for a session at ``TOTP`` stage; a new session token
        (the one that saw only the password is dropped)."""
        subjects = (f"address:{address}", f"user:{visit.user.email}")
        await self._refuse_while_throttled(subjects)
        async with self.db.write() as conn:
            record = await user_store.by_id(conn, visit.user.id)
            step = self._step(record, code)
            if visit.stage != Stage.TOTP or step is None:
                failed = True
            else:
                failed = not await user_store.use_totp_step(conn, record.id, step)
            if not failed:
                await store.delete(conn, token_hash(visit.token))
                await store.clear_failures(conn, subjects[1])
                return await self._open(conn, record, Stage.IN)
        await self._fail(subjects)
        raise LoginRefused()

    async def visit(self, token: str) -> Visit | None:
        """The session of a cookie's token, unless it is unknown or has been idle too long."""
        if not token or len(token) > 128:
            return None
        now_ms = self.clock.now_ms()
        async with self.db.read() as conn:
            found = await store.find(conn, token_hash(token))
            if found is None:
                return None
            record = await user_store.by_id(conn, found.user_id)
        if found.seen_ms < now_ms - self.idle_ms or record.account_status != "active":
            await self.logout(token)
            return None
        if found.seen_ms < now_ms - TOUCH_EVERY_MS:
            async with self.db.write() as conn:
                await store.touch(conn, found.token_hash, now_ms)
        return Visit(token, Stage(found.stage), _user(record))

    async def logout(self, token: str) -> None:
        async with self.db.write() as conn:
            await store.delete(conn, token_hash(token))

    def form_token(self, basis: str) -> str:
        """A form's CSRF token for a session's token (or a pre-login cookie's value): an HMAC
        under a key of its own, so it needs no storage and changes with every login."""
        key = self.keyring.derive("panel-csrf")
        return hmac.new(key, basis.encode(), hashlib.sha256).hexdigest()

    def form_token_matches(self, basis: str, given: str) -> bool:
        return hmac.compare_digest(self.form_token(basis), given or "")

    async def start_enrolment(self, user: PanelUser) -> Enrolment:
        """The secret for the user's app, kept sealed and not in force until a code confirms
        it: the one offered before while it is unconfirmed (the user may have scanned it)."""
        async with self.db.write() as conn:
            record = await user_store.by_id(conn, user.id)
            if record.totp_enabled:
                raise ValueError("already enrolled")
            if record.totp_secret is not None:
                secret = self.keyring.open(record.totp_secret)
            else:
                secret = totp.new_secret()
                await user_store.set_totp(conn, user.id, self.keyring.seal(secret), False)
        return Enrolment(secret, totp.provisioning_uri(secret, user.email, ISSUER))

    async def confirm_enrolment(self, visit: Visit, code: str) -> Visit:
        """The first code from the app puts the secret in force; the session is then in."""
        async with self.db.write() as conn:
            record = await user_store.by_id(conn, visit.user.id)
            if record.totp_enabled or record.totp_secret is None:
                raise LoginRefused()
            secret = self.keyring.open(record.totp_secret)
            step = totp.matching_step(secret, code, self.clock.now().timestamp())
            if step is None or not await user_store.use_totp_step(conn, record.id, step):
                raise LoginRefused()
            await user_store.set_totp(conn, record.id, record.totp_secret, True)
            await store.delete(conn, token_hash(visit.token))
            return await self._open(conn, await user_store.by_id(conn, record.id), Stage.IN)

    def _step(self, record: UserRecord, code: str) -> int | None:
        if not record.totp_enabled or record.totp_secret is None:
            return None
        secret = self.keyring.open(record.totp_secret)
        return totp.matching_step(secret, code, self.clock.now().timestamp())

    async def _open(self, conn: AsyncConnection, record: UserRecord, stage: Stage) -> Visit:
        token = secrets.token_urlsafe(32)
        await store.insert(conn, token_hash(token), record.id, stage.value, self.clock.now_ms())
        return Visit(token, stage, _user(record))

    async def _refuse_while_throttled(self, subjects: tuple[str, str]) -> None:
        now_ms = self.clock.now_ms()
        async with self.db.read() as conn:
            waits = []
            for subject, free in zip(subjects, (ADDRESS_FREE_TRIES, USER_FREE_TRIES), strict=True):
                failures, last_ms = await store.failures_since(
                    conn, subject, now_ms - FAILURE_WINDOW_MS
                )
                waits.append(last_ms / 1000 + _wait_seconds(failures, free) - now_ms / 1000)
        wait = max(waits)
        if wait > 0:
            raise LoginRefused(retry_after=wait)

    async def _fail(self, subjects: tuple[str, str]) -> None:
        async with self.db.write() as conn:
            for subject in subjects:
                await store.add_failure(conn, subject, self.clock.now_ms())
