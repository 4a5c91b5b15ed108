"""Accounts: their balances and sender IDs as a customer sees them, and as the operator runs
them (opening, topping up, suspending, the international switch, OTP settings, titles).

The operator's calls name an account by its name and raise ``NotFound``, ``AlreadyExists`` or
``ValueError`` for what cannot be done; a customer's calls come with the account their key
resolved to.
"""

from __future__ import annotations

from dataclasses import dataclass

from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.errors import AlreadyExists
from ileti.domain.pricing import Balance
from ileti.domain.titles import InvalidTitle, TitleStatus
from ileti.store import accounts as store
from ileti.store import ledger_pages, payers
from ileti.store.accounts import AccountView, TitleRecord, TitleView
from ileti.store.db import Database
from ileti.store.ledger_pages import LedgerRecord
from ileti.validation import has_control, has_text, invalid, is_whole, title

__all__ = [
    "AccountChange",
    "AccountView",
    "Accounts",
    "Balances",
    "LedgerRecord",
    "TitleRecord",
    "TitleView",
]

# What the operator reads of a title request's reason.
REASON_LENGTH = 300
# Ledger ids are 64-bit; a page position beyond them means "from the newest".
_MAX_ENTRY_ID = 2**63 - 1


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
        """What the account can spend now (``/auth/check`` reports it as its key's cache read
        it): its own balances, or a shared-balance child's parent's, within the child's daily
        cap."""
        async with self.db.read() as conn:
            payer = (await payers.payers(conn, [account_id]))[account_id]
            credits, kurus = await store.balances(conn, payer.payer_id)
            if payer.daily_cap is not None:
                spent = await payers.spent_today(conn, account_id, self.clock.now())
                credits = min(credits, max(payer.daily_cap - spent, 0))
        return Balances(credits, kurus)

    async def set_low_balance(self, account_id: int, threshold: int | None) -> None:
        """Raise ``account.low_balance`` when the main balance goes below ``threshold`` credits
        (None: never)."""
        if threshold is not None and (not is_whole(threshold) or threshold < 0):
            raise invalid("low_balance", "must be a whole number of credits, 0 or more")
        async with self.db.write() as conn:
            await store.set_low_balance(conn, account_id, threshold)

    async def titles(self, account_id: int) -> list[TitleView]:
        async with self.db.read() as conn:
            return await store.list_titles(conn, account_id)

    async def title_records(self, account_id: int) -> list[TitleRecord]:
        """The account's sender IDs with their state and reason, the newest first."""
        async with self.db.read() as conn:
            return await store.title_records(conn, account_id)

    async def request_title(self, account_id: int, wanted: object, reason: object) -> TitleRecord:
        """Asks the operator for a sender ID: it waits as ``pending`` until approved. TS-1035
        for a title the market does not allow, one the account has, or no reason."""
        chosen = title(wanted)
        if not isinstance(reason, str) or not has_text(reason):
            raise invalid("reason", "is required")
        reason = reason.strip()
        if len(reason) > REASON_LENGTH or has_control(reason):
            raise invalid(
                "reason", f"has at most {REASON_LENGTH} characters and no control characters"
            )
        async with self.db.write() as conn:
            try:
                return await store.request_title(conn, account_id, chosen, reason, self.clock.now())
            except InvalidTitle as exc:
                raise invalid("title", str(exc)) from None
            except AlreadyExists:
                raise invalid("title", "the account has this sender ID already") from None

    async def ledger(
        self,
        account_id: int,
        *,
        limit: int = 50,
        balance: Balance | None = None,
        before: int | None = None,
    ) -> tuple[list[LedgerRecord], int | None]:
        """The account's ledger entries, newest first (of one balance, if given), and where
        the next page starts (None on the last)."""
        if before is not None and not 0 < before <= _MAX_ENTRY_ID:
            before = None
        async with self.db.read() as conn:
            return await ledger_pages.page(
                conn, account_id, limit=limit, balance=balance, before=before
            )

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
