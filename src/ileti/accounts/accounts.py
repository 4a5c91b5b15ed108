"""Accounts: their balances and sender IDs as a customer sees them, and as the operator runs
them (opening, topping up, suspending, the international switch, OTP settings, titles).

The operator's calls name an account by its name and raise ``NotFound``, ``AlreadyExists`` or
``ValueError`` for what cannot be done; a customer's calls come with the account their key
resolved to.
"""

from __future__ import annotations

from dataclasses import dataclass

from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.pricing import Balance
from ileti.domain.titles import TitleStatus
from ileti.store import accounts as store
from ileti.store.accounts import AccountView, TitleView
from ileti.store.db import Database

__all__ = ["AccountChange", "AccountView", "Accounts", "Balances", "TitleView"]


@dataclass(frozen=True, slots=True)
class Balances:
    credits: int  # domestic, one per segment
    international_kurus: int


@dataclass(frozen=True, slots=True)
class AccountChange:
    """What the operator changes of an account; None leaves a setting as it is."""

    active: bool | None = None
    international: bool | None = None
    otp_title: str | None = None
    otp_code_in_response: bool | None = None


class Accounts:
    def __init__(self, db: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db = db
        self.clock = clock

    # The customer's view.

    async def balances(self, account_id: int) -> Balances:
        """The balances now (``/auth/check`` reports them as its key's cache read them)."""
        async with self.db.read() as conn:
            credits, kurus = await store.balances(conn, account_id)
        return Balances(credits, kurus)

    async def titles(self, account_id: int) -> list[TitleView]:
        async with self.db.read() as conn:
            return await store.list_titles(conn, account_id)

    # The operator's.

    async def open(
        self, name: str, *, credits: int = 0, international_kurus: int = 0
    ) -> AccountView:
        """A new account; international sending is on when it gets an international balance."""
        async with self.db.write() as conn:
            return await store.create_account(
                conn,
                name,
                self.clock.now(),
                credits=credits,
                international_kurus=international_kurus,
            )

    async def all(self) -> list[AccountView]:
        async with self.db.read() as conn:
            return await store.list_accounts(conn)

    async def top_up(self, name: str, balance: Balance, amount: int) -> AccountView:
        """Add to a balance: a ledger entry, never an overwrite."""
        async with self.db.write() as conn:
            account = await store.find_account(conn, name)
            await store.topup(conn, account.id, balance, amount, self.clock.now())
            return await store.get_account(conn, account.id)

    async def change(self, name: str, change: AccountChange) -> None:
        async with self.db.write() as conn:
            account = await store.find_account(conn, name)
            if change.active is not None:
                await store.set_account_status(conn, account.id, change.active)
            if change.international is not None:
                await store.set_international(conn, account.id, change.international)
            if change.otp_title is not None:
                titles = {t.title for t in await store.list_titles(conn, account.id)}
                if change.otp_title not in titles:
                    raise ValueError(f"{change.otp_title!r} is not a title of {name}: add it first")
            await store.set_otp(
                conn,
                account.id,
                title=change.otp_title,
                code_in_response=change.otp_code_in_response,
            )

    async def add_title(self, name: str, title: str, *, active: bool = False) -> TitleView:
        """A sender ID, pending the operator's approval unless ``active``."""
        async with self.db.write() as conn:
            account = await store.find_account(conn, name)
            return await store.add_title(conn, account.id, title, self.clock.now(), active=active)

    async def set_title(self, name: str, title: str, status: TitleStatus) -> None:
        async with self.db.write() as conn:
            account = await store.find_account(conn, name)
            await store.set_title_status(conn, account.id, title, status)

    async def titles_of(self, name: str) -> list[TitleView]:
        async with self.db.read() as conn:
            account = await store.find_account(conn, name)
            return await store.list_titles(conn, account.id)
