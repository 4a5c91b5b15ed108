"""Accounts and their sender IDs (titles)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.titles import TitleStatus, validate_title
from ileti.store import ledger
from ileti.store.ledger import Balance, EntryKind
from ileti.store.models import Account, SenderId, utcnow

accounts = Account.__table__
sender_ids = SenderId.__table__


class NotFound(LookupError):
    pass


class AlreadyExists(Exception):
    pass


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


_ACCOUNT_COLUMNS = (
    accounts.c.id,
    accounts.c.name,
    accounts.c.status,
    accounts.c.credits,
    accounts.c.international_kurus,
    accounts.c.international_enabled,
    accounts.c.otp_title,
    accounts.c.created_at,
)


async def create_account(
    conn: AsyncConnection,
    name: str,
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
    try:
        account_id = (
            await conn.execute(
                insert(accounts)
                .values(
                    name=name,
                    status="active",
                    credits=0,
                    international_kurus=0,
                    international_enabled=(
                        bool(international_kurus)
                        if international_enabled is None
                        else international_enabled
                    ),
                    created_at=utcnow(),
                )
                .returning(accounts.c.id)
            )
        ).scalar_one()
    except IntegrityError as exc:
        raise AlreadyExists(f"an account named {name!r} exists") from exc
    if credits:
        await topup(conn, account_id, Balance.MAIN, credits, note="opening balance")
    if international_kurus:
        await topup(
            conn, account_id, Balance.INTERNATIONAL, international_kurus, note="opening balance"
        )
    return await get_account(conn, account_id)


async def topup(
    conn: AsyncConnection,
    account_id: int,
    balance: Balance,
    amount: int,
    *,
    note: str | None = None,
) -> int:
    """Add to a balance through the ledger; returns the balance after."""
    if amount <= 0:
        raise ValueError("a top-up is a positive amount")
    posting = await ledger.post(
        conn, account_id, balance, amount, EntryKind.TOPUP, f"topup:{uuid.uuid4()}", note
    )
    return posting.balance_after


async def get_account(conn: AsyncConnection, account_id: int) -> AccountView:
    row = (await conn.execute(select(*_ACCOUNT_COLUMNS).where(accounts.c.id == account_id))).first()
    if row is None:
        raise NotFound(f"no account {account_id}")
    return AccountView(*row)


async def find_account(conn: AsyncConnection, name: str) -> AccountView:
    row = (await conn.execute(select(*_ACCOUNT_COLUMNS).where(accounts.c.name == name))).first()
    if row is None:
        raise NotFound(f"no account named {name!r}")
    return AccountView(*row)


async def list_accounts(conn: AsyncConnection) -> list[AccountView]:
    rows = await conn.execute(select(*_ACCOUNT_COLUMNS).order_by(accounts.c.id))
    return [AccountView(*row) for row in rows]


_BALANCES = select(accounts.c.credits, accounts.c.international_kurus).where(
    accounts.c.id == bindparam("account_id")
)


async def balances(conn: AsyncConnection, account_id: int) -> tuple[int, int]:
    """(main credits, international kuruş), read now."""
    row = (await conn.execute(_BALANCES, {"account_id": account_id})).one()
    return row[0], row[1]


async def set_account_status(conn: AsyncConnection, account_id: int, active: bool) -> None:
    await conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(status="active" if active else "inactive")
    )


async def set_international(conn: AsyncConnection, account_id: int, enabled: bool) -> None:
    await conn.execute(
        update(accounts).where(accounts.c.id == account_id).values(international_enabled=enabled)
    )


async def set_otp(
    conn: AsyncConnection,
    account_id: int,
    *,
    title: str | None = None,
    code_in_response: bool | None = None,
) -> None:
    """The account's default OTP title (one of its titles) and whether /otp/send answers with
    the code."""
    values: dict[str, object] = {}
    if title is not None:
        values["otp_title"] = validate_title(title)
    if code_in_response is not None:
        values["otp_code_in_response"] = code_in_response
    if values:
        await conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))


async def add_title(
    conn: AsyncConnection, account_id: int, title: str, *, active: bool = False
) -> TitleView:
    title = validate_title(title)
    status = TitleStatus.ACTIVE if active else TitleStatus.PENDING
    try:
        await conn.execute(
            insert(sender_ids).values(
                account_id=account_id, title=title, status=status.value, created_at=utcnow()
            )
        )
    except IntegrityError as exc:
        raise AlreadyExists(f"the account already has the title {title!r}") from exc
    return TitleView(title, status.value)


async def set_title_status(
    conn: AsyncConnection, account_id: int, title: str, status: TitleStatus
) -> None:
    result = await conn.execute(
        update(sender_ids)
        .where(sender_ids.c.account_id == account_id, sender_ids.c.title == title)
        .values(status=status.value)
    )
    if result.rowcount == 0:
        raise NotFound(f"the account has no title {title!r}")


async def list_titles(conn: AsyncConnection, account_id: int) -> list[TitleView]:
    rows = await conn.execute(
        select(sender_ids.c.title, sender_ids.c.status)
        .where(sender_ids.c.account_id == account_id)
        .order_by(sender_ids.c.title)
    )
    return [TitleView(*row) for row in rows]
