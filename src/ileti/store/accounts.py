"""Accounts and their sender IDs (titles)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.errors import AlreadyExists, NotFound
from ileti.domain.pricing import Balance
from ileti.domain.titles import TitleStatus, validate_title
from ileti.store import ledger
from ileti.store.ledger import EntryKind
from ileti.store.sql import Raw, reader


@dataclass(frozen=True, slots=True)
class AccountView:
    id: int
    name: str
    status: str
    credits: int
    international_kurus: int
    international_enabled: bool
    otp_title: str | None
    created_at: datetime

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class TitleView:
    title: str
    status: str


@dataclass(frozen=True, slots=True)
class OtpSettings:
    """What an account set for its OTPs."""

    title: str | None
    code_in_response: bool


_account = reader(AccountView)
_ACCOUNT = (
    "SELECT id, name, status, credits, international_kurus, international_enabled, otp_title,"
    " created_at FROM accounts"
)
_CREATE = Raw(
    "INSERT INTO accounts (name, status, credits, international_kurus, international_enabled,"
    " otp_code_in_response, created_at) VALUES ($1, 'active', 0, 0, $2, $3, $4) RETURNING id"
)
_BY_ID = Raw(_ACCOUNT + " WHERE id = $1")
_BY_NAME = Raw(_ACCOUNT + " WHERE name = $1")
_ALL = Raw(_ACCOUNT + " ORDER BY id")
_SET_LOW_BALANCE = Raw(
    "UPDATE accounts SET low_balance_threshold = $2, low_balance_notified = FALSE WHERE id = $1"
)
_BALANCES = Raw("SELECT credits, international_kurus FROM accounts WHERE id = $1")
_SET_STATUS = Raw("UPDATE accounts SET status = $2 WHERE id = $1")
_SET_INTERNATIONAL = Raw("UPDATE accounts SET international_enabled = $2 WHERE id = $1")
_SET_OTP_TITLE = Raw("UPDATE accounts SET otp_title = $2 WHERE id = $1")
_SET_OTP_CODE = Raw("UPDATE accounts SET otp_code_in_response = $2 WHERE id = $1")
_OTP_SETTINGS = Raw("SELECT otp_title, otp_code_in_response FROM accounts WHERE id = $1")
_ADD_TITLE = Raw(
    "INSERT INTO sender_ids (account_id, title, status, created_at) VALUES ($1, $2, $3, $4)"
)
_SET_TITLE_STATUS = Raw("UPDATE sender_ids SET status = $3 WHERE account_id = $1 AND title = $2")
_TITLES = Raw("SELECT title, status FROM sender_ids WHERE account_id = $1 ORDER BY title")


async def create_account(
    conn: AsyncConnection,
    name: str,
    now: datetime,
    *,
    credits: int = 0,
    international_kurus: int = 0,
    international_enabled: bool | None = None,
) -> AccountView:
    """A new account; opening balances go in as ledger entries like any top-up."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("an account name has 1 to 100 characters")
    if credits < 0 or international_kurus < 0:
        raise ValueError("opening balances cannot be negative")
    enabled = bool(international_kurus) if international_enabled is None else international_enabled
    try:
        [row] = await _CREATE.rows(conn, name, enabled, True, now)
    except IntegrityError as exc:
        raise AlreadyExists(f"an account named {name!r} exists") from exc
    account_id: int = row["id"]
    if credits:
        await topup(conn, account_id, Balance.MAIN, credits, now, note="opening balance")
    if international_kurus:
        await topup(
            conn,
            account_id,
            Balance.INTERNATIONAL,
            international_kurus,
            now,
            note="opening balance",
        )
    return await get_account(conn, account_id)


async def topup(
    conn: AsyncConnection,
    account_id: int,
    balance: Balance,
    amount: int,
    now: datetime,
    *,
    note: str | None = None,
) -> int:
    """Add to a balance through the ledger; returns the balance after."""
    if amount <= 0:
        raise ValueError("a top-up is a positive amount")
    posting = await ledger.post(
        conn, account_id, balance, amount, EntryKind.TOPUP, f"topup:{uuid.uuid4()}", now, note
    )
    return posting.balance_after


async def get_account(conn: AsyncConnection, account_id: int) -> AccountView:
    row = await _BY_ID.first(conn, account_id)
    if row is None:
        raise NotFound(f"no account {account_id}")
    return _account(row)


async def find_account(conn: AsyncConnection, name: str) -> AccountView:
    row = await _BY_NAME.first(conn, name)
    if row is None:
        raise NotFound(f"no account named {name!r}")
    return _account(row)


async def list_accounts(conn: AsyncConnection) -> list[AccountView]:
    return [_account(row) for row in await _ALL.rows(conn)]


async def balances(conn: AsyncConnection, account_id: int) -> tuple[int, int]:
    """(main credits, international kuruş), read now."""
    row = await _BALANCES.first(conn, account_id)
    if row is None:
        raise NotFound(f"no account {account_id}")
    return row["credits"], row["international_kurus"]


async def set_low_balance(conn: AsyncConnection, account_id: int, threshold: int | None) -> None:
    """A new threshold is watched from the next movement of the balance on: one it is below
    already is announced then."""
    await _SET_LOW_BALANCE.run(conn, account_id, threshold)


async def set_account_status(conn: AsyncConnection, account_id: int, active: bool) -> None:
    await _SET_STATUS.run(conn, account_id, "active" if active else "inactive")


async def set_international(conn: AsyncConnection, account_id: int, enabled: bool) -> None:
    await _SET_INTERNATIONAL.run(conn, account_id, enabled)


async def set_otp(
    conn: AsyncConnection,
    account_id: int,
    *,
    title: str | None = None,
    code_in_response: bool | None = None,
) -> None:
    """The account's default OTP title (one of its titles) and whether /otp/send answers with
    the code."""
    if title is not None:
        await _SET_OTP_TITLE.run(conn, account_id, validate_title(title))
    if code_in_response is not None:
        await _SET_OTP_CODE.run(conn, account_id, code_in_response)


async def otp_settings(conn: AsyncConnection, account_id: int) -> OtpSettings:
    row = await _OTP_SETTINGS.first(conn, account_id)
    if row is None:
        raise NotFound(f"no account {account_id}")
    return OtpSettings(row["otp_title"], bool(row["otp_code_in_response"]))


async def add_title(
    conn: AsyncConnection, account_id: int, title: str, now: datetime, *, active: bool = False
) -> TitleView:
    title = validate_title(title)
    status = TitleStatus.ACTIVE if active else TitleStatus.PENDING
    try:
        await _ADD_TITLE.run(conn, account_id, title, status.value, now)
    except IntegrityError as exc:
        raise AlreadyExists(f"the account already has the title {title!r}") from exc
    return TitleView(title, status.value)


async def set_title_status(
    conn: AsyncConnection, account_id: int, title: str, status: TitleStatus
) -> None:
    if await _SET_TITLE_STATUS.run(conn, account_id, title, status.value) == 0:
        raise NotFound(f"the account has no title {title!r}")


async def list_titles(conn: AsyncConnection, account_id: int) -> list[TitleView]:
    return [TitleView(row["title"], row["status"]) for row in await _TITLES.rows(conn, account_id)]


@dataclass(frozen=True, slots=True)
class TitleRecord:
    """A sender ID as the account sees it in the panel: its state, and why it was asked for."""

    title: str
    status: str
    reason: str | None
    created_at: datetime


_title_record = reader(TitleRecord)
_REQUEST_TITLE = Raw(
    "INSERT INTO sender_ids (account_id, title, status, reason, created_at)"
    " VALUES ($1, $2, $3, $4, $5)"
)
_TITLE_RECORDS = Raw(
    "SELECT title, status, reason, created_at FROM sender_ids WHERE account_id = $1"
    " ORDER BY created_at DESC, id DESC"
)


async def request_title(
    conn: AsyncConnection, account_id: int, title: str, reason: str, now: datetime
) -> TitleRecord:
    """A sender ID the account asks for, pending until the operator approves it."""
    title = validate_title(title)
    try:
        await _REQUEST_TITLE.run(conn, account_id, title, TitleStatus.PENDING.value, reason, now)
    except IntegrityError as exc:
        raise AlreadyExists(f"the account already has the title {title!r}") from exc
    return TitleRecord(title, TitleStatus.PENDING.value, reason, now)


async def title_records(conn: AsyncConnection, account_id: int) -> list[TitleRecord]:
    """The account's sender IDs, the newest first."""
    return [_title_record(row) for row in await _TITLE_RECORDS.rows(conn, account_id)]
