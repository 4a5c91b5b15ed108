"""Resellers: an account that runs accounts of its own (its children, one level deep).

A reseller names a child by its id (or name) together with itself; anything that is not its
child (another account, itself, another reseller's customer) is TS-1039, exactly like an id
that names nothing. What a reseller does for a child (a key, a pending title, a panel user)
goes through the same functions as the operator's and the panel's, with their rules; what
changes the child itself (made, suspended, reactivated, priced) is in the reseller's audit log,
a key or a user in the child's own, each in the transaction of the change. The operator's
calls name accounts by name and may do all of it too.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

import phonenumbers
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti import codes
from ileti.accounts.accounts import Accounts, TitleRecord
from ileti.accounts.keys import Keys, NotANetwork
from ileti.accounts.users import OPERATOR, Users, UserView
from ileti.codes import GatewayError
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.errors import AlreadyExists, NotFound
from ileti.domain.permissions import GRANTED_BY_DEFAULT, Permission, Role
from ileti.domain.schedule import ISTANBUL
from ileti.store import accounts as account_store
from ileti.store import audit, prices, reports
from ileti.store import resellers as store
from ileti.store.db import Database
from ileti.store.keys import KeyRecord
from ileti.store.resellers import ChildView
from ileti.validation import invalid, is_whole, quoted

__all__ = ["ChildView", "Resellers", "Usage", "UsageRow"]

# Who a reseller's change is in its child's own audit log: the child sees that its reseller
# did it, not which of the reseller's keys or people.
RESELLER = "reseller"
# Regions a price can be set for: every country but Turkey (domestic messages cost credits),
# and "*" for every country without a price of its own.
REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS) - {"TR"} | {"*"}
NAME_LENGTH = 100
# The most a field counting credits or kuruş takes: sums of them stay far within 64 bits.
MAX_AMOUNT = 10**15
# The highest price a segment, in kuruş (1,000,000 TRY; the column is 32-bit).
MAX_PRICE = 100_000_000
# Requests a minute a key may be allowed (the column is 32-bit).
MAX_PER_MINUTE = 2**31 - 1
# Account ids are 64-bit at most.
_MAX_ID = 2**63 - 1
# The longest usage report, in days: a year and a day.
USAGE_DAYS = 366


def _refused_child() -> GatewayError:
    return GatewayError(codes.NOT_FOUND, "No such customer account.")


@dataclass(frozen=True, slots=True)
class UsageRow:
    """A child's messages created on one Istanbul day, and what they were charged."""

    child_id: int
    name: str
    day: date
    messages: int
    # Segments sent in Turkey: one credit each.
    segments: int
    # Credits charged when the messages were accepted, and given back for those that failed,
    # expired or were cancelled.
    credits: int
    refunded_credits: int
    # The same for messages abroad, in kuruş of the international balance.
    international_kurus: int
    refunded_international_kurus: int


@dataclass(frozen=True, slots=True)
class Usage:
    first: date
    last: date
    rows: list[UsageRow]


class Resellers:
    def __init__(
        self,
        db: Database,
        accounts: Accounts,
        keys: Keys,
        users: Users,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.db = db
        self.accounts = accounts
        self.keys = keys
        self.users = users
        self.clock = clock

    # A reseller's children: made, listed, found, suspended and reactivated.

    async def create_child(
        self,
        parent_id: int,
        name: object,
        *,
        shared_balance: bool = False,
        daily_cap: object = None,
        actor: str,
    ) -> ChildView:
        """A new account under ``parent_id``: with a balance of its own (filled by transfers),
        or spending its parent's (``shared_balance``), at most ``daily_cap`` credits an
        Istanbul day. It sends abroad if its parent may. A child has no children."""
        if not isinstance(name, str) or not name.strip():
            raise invalid("name", "is required")
        # Names are shown in lists and logs: no line breaks or tabs either.
        if len(name) > NAME_LENGTH or any(unicodedata.category(c) == "Cc" for c in name):
            raise invalid("name", f"has at most {NAME_LENGTH} characters, no control characters")
        name = name.strip()
        cap = _daily_cap(daily_cap, shared_balance)
        async with self.db.write() as conn:
            parent = await store.lineage(conn, parent_id)
            if parent.parent_id is not None:
                raise invalid("account", "is a customer account: it cannot have customers")
            now = self.clock.now()
            try:
                made = await account_store.create_account(conn, name, now)
            except AlreadyExists:
                raise invalid("name", f"{quoted(name)} is taken: choose another") from None
            await store.adopt(conn, made.id, parent, shared_balance=shared_balance, daily_cap=cap)
            detail = "shared balance" if shared_balance else "own balance"
            if cap is not None:
                detail += f", at most {cap} credits a day"
            await audit.add(conn, parent_id, actor, "child.create", name, now, detail)
            return await store.child_by_id(conn, parent_id, made.id)

    async def children(self, parent_id: int) -> list[ChildView]:
        """The reseller's children, oldest first, with their balances and last activity."""
        async with self.db.read() as conn:
            return await store.children(conn, parent_id)

    async def child(self, parent_id: int, child_id: int) -> ChildView:
        async with self.db.read() as conn:
            return await _child(conn, parent_id, child_id)

    async def find_child(self, parent_id: int, account: object) -> ChildView:
        """The child ``account`` names: its id (an integer), or its name (a string; a string
        of digits that is no child's name is taken as an id)."""
        async with self.db.read() as conn:
            if is_whole(account):
                assert isinstance(account, int)
                return await _child(conn, parent_id, account)
            if not isinstance(account, str) or not account.strip():
                raise invalid("account", "must be a customer account's id or name")
            try:
                return await store.child_by_name(conn, parent_id, account.strip())
            except NotFound:
                if account.strip().isdigit():
                    return await _child(conn, parent_id, int(account.strip()))
                raise _refused_child() from None

    async def suspend(self, parent_id: int, child_id: int, *, actor: str) -> ChildView:
        """The child's keys are refused (TS-1030) from the key cache's next second on; its
        parent and siblings are untouched."""
        return await self._set_active(parent_id, child_id, False, actor)

    async def reactivate(self, parent_id: int, child_id: int, *, actor: str) -> ChildView:
        return await self._set_active(parent_id, child_id, True, actor)

    async def _set_active(
        self, parent_id: int, child_id: int, active: bool, actor: str
    ) -> ChildView:
        async with self.db.write() as conn:
            child = await _child(conn, parent_id, child_id)
            if child.active != active:
                await account_store.set_account_status(conn, child.id, active)
                action = "child.reactivate" if active else "child.suspend"
                await audit.add(conn, parent_id, actor, action, child.name, self.clock.now())
            return await _child(conn, parent_id, child_id)

    # What a child needs to send: keys, titles, panel users.

    async def create_key(
        self,
        parent_id: int,
        child_id: int,
        *,
        deny: set[Permission] | None = None,
        allow_ips: list[str] | None = None,
        per_minute: int | None = None,
    ) -> tuple[str, KeyRecord]:
        """A key for the child (shown this once), with every permission a key holds by
        default but those denied; never ``manage_subaccounts``."""
        child = await self.child(parent_id, child_id)
        if per_minute is not None and (
            not is_whole(per_minute) or not 0 <= per_minute <= MAX_PER_MINUTE
        ):
            raise invalid("per_minute", f"must be 0 (no limit) to {MAX_PER_MINUTE}")
        try:
            key, record = await self.keys.create_for(
                child.id,
                permissions=set(GRANTED_BY_DEFAULT - (deny or set())),
                allow_ips=allow_ips or [],
                per_minute=per_minute,
                actor=RESELLER,
            )
        except NotANetwork as refused:
            raise invalid("allow_ips", str(refused)) from None
        return key, record

    async def add_title(
        self, parent_id: int, child_id: int, title: object, reason: object
    ) -> TitleRecord:
        """A sender ID for the child, ``pending`` until the operator approves it."""
        child = await self.child(parent_id, child_id)
        return await self.accounts.request_title(child.id, title, reason)

    async def add_user(
        self, parent_id: int, child_id: int, email: object, role: object
    ) -> tuple[UserView, str]:
        """A panel user of the child, and their password (shown this once)."""
        child = await self.child(parent_id, child_id)
        if not isinstance(email, str):
            raise invalid("email", "must be an email address")
        if role not in (Role.OWNER.value, Role.MEMBER.value):
            raise invalid("role", "must be owner or member")
        assert isinstance(role, str)
        try:
            user, password = await self.users.add_to(child.id, email, Role(role), actor=RESELLER)
        except AlreadyExists:
            raise invalid("email", "has a panel user already") from None
        except ValueError as refused:
            raise invalid("email", str(refused)) from None
        return user, password

    # Prices abroad: a reseller's for its children, never below its own.

    async def prices(self, account_id: int) -> dict[str, int]:
        """The account's prices in force: kuruş a segment by region, ``*`` for the rest."""
        async with self.db.read() as conn:
            return (await prices.prices_for(conn, {account_id}))[account_id]

    async def own_prices(self, account_id: int) -> dict[str, int]:
        """The prices set for the account itself (the rest it inherits)."""
        async with self.db.read() as conn:
            return await prices.own_prices(conn, account_id)

    async def set_price(
        self, parent_id: int, child_id: int, region: object, kurus: object, *, actor: str
    ) -> dict[str, int]:
        """Sets the child's price for ``region``; TS-1035 below what the reseller pays there.
        Returns the child's prices in force."""
        code = _region(region)
        if not is_whole(kurus) or not isinstance(kurus, int) or not 0 <= kurus <= MAX_PRICE:
            raise invalid("price", f"must be an amount in TRY, 0 to {MAX_PRICE // 100:,}")
        async with self.db.write() as conn:
            child = await _child(conn, parent_id, child_id)
            await _price_within_floor(conn, parent_id, code, kurus, "your own")
            await prices.set_own_price(conn, child.id, code, kurus)
            now = self.clock.now()
            detail = f"{code} {kurus / 100:.2f} TRY"
            await audit.add(conn, parent_id, actor, "child.price.set", child.name, now, detail)
            return (await prices.prices_for(conn, {child.id}))[child.id]

    async def reset_price(
        self, parent_id: int, child_id: int, region: object, *, actor: str
    ) -> dict[str, int]:
        """The child pays the reseller's price for ``region`` again. Returns its prices."""
        code = _region(region)
        async with self.db.write() as conn:
            child = await _child(conn, parent_id, child_id)
            if await prices.reset_own_price(conn, child.id, code):
                now = self.clock.now()
                await audit.add(conn, parent_id, actor, "child.price.reset", child.name, now, code)
            return (await prices.prices_for(conn, {child.id}))[child.id]

    # Usage, for the reseller to bill its customers.

    async def usage(
        self,
        parent_id: int,
        child_id: int | None,
        first: date | None = None,
        last: date | None = None,
    ) -> Usage:
        """Per child (or the one given) and Istanbul day from ``first`` (default: the first
        of ``last``'s month) to ``last`` (default: today): messages and charges, read from the
        counts kept as messages move. Days without messages are left out; by child, then day."""
        last = last or self.clock.now().astimezone(ISTANBUL).date()
        first = first or last.replace(day=1)
        if (last - first).days >= USAGE_DAYS:
            raise invalid("date_from", f"is at most {USAGE_DAYS} days before date_to")
        since, until = reports.istanbul_days(first, last)
        async with self.db.read(report=True) as conn:
            if child_id is None:
                of = await store.children(conn, parent_id)
            else:
                of = [await _child(conn, parent_id, child_id)]
            rows: list[UsageRow] = []
            for child in of:
                totals = await reports.day_totals(conn, child.id, since, until)
                rows += _usage_of(child, totals)
        return Usage(first, last, rows)

    # The operator's: accounts named by name.

    async def open_child(
        self, parent: str, name: str, *, shared_balance: bool = False, daily_cap: int | None = None
    ) -> ChildView:
        parent_id = await self.account_id(parent)
        return await self.create_child(
            parent_id, name, shared_balance=shared_balance, daily_cap=daily_cap, actor=OPERATOR
        )

    async def set_daily_cap(self, name: str, daily_cap: int | None) -> None:
        """A shared-balance child's cap of credits an Istanbul day (None: no cap)."""
        async with self.db.write() as conn:
            account = await account_store.find_account(conn, name)
            child = await store.lineage(conn, account.id)
            if child.parent_id is None:
                raise ValueError(f"{name} is no reseller's customer: a daily cap is for those")
            cap = _daily_cap(daily_cap, child.shared_balance)
            await store.set_daily_cap(conn, account.id, cap)

    async def parent_names(self) -> dict[int, str]:
        """Each child account's id, with its parent's name."""
        async with self.db.read() as conn:
            return await store.parent_names(conn)

    async def set_account_price(self, name: str, region: str, kurus: int) -> dict[str, int]:
        """An account's own price for ``region``; a child's is never below its parent's."""
        code = _region(region)
        if not 0 <= kurus <= MAX_PRICE:
            raise ValueError(f"a price is 0 to {MAX_PRICE // 100:,} TRY")
        async with self.db.write() as conn:
            account = await account_store.find_account(conn, name)
            tie = await store.lineage(conn, account.id)
            if tie.parent_id is not None:
                await _price_within_floor(conn, tie.parent_id, code, kurus, "its reseller's")
            await prices.set_own_price(conn, account.id, code, kurus)
            return (await prices.prices_for(conn, {account.id}))[account.id]

    async def reset_account_price(self, name: str, region: str) -> bool:
        """Back to the price it inherits; False if it had none of its own."""
        code = _region(region)
        async with self.db.write() as conn:
            account = await account_store.find_account(conn, name)
            return await prices.reset_own_price(conn, account.id, code)

    async def account_prices(self, name: str) -> tuple[dict[str, int], dict[str, int]]:
        """An account's prices in force, and those set for it itself."""
        async with self.db.read() as conn:
            account = await account_store.find_account(conn, name)
            table = (await prices.prices_for(conn, {account.id}))[account.id]
            return table, await prices.own_prices(conn, account.id)

    async def account_id(self, name: str) -> int:
        """The id of the account named ``name`` (the operator's commands name accounts)."""
        async with self.db.read() as conn:
            return (await account_store.find_account(conn, name)).id


async def _child(conn: AsyncConnection, parent_id: int, child_id: int) -> ChildView:
    if not 0 < child_id <= _MAX_ID:
        raise _refused_child()  # beyond what an id column holds: names nothing
    try:
        return await store.child_by_id(conn, parent_id, child_id)
    except NotFound:
        raise _refused_child() from None


def _daily_cap(value: object, shared_balance: bool) -> int | None:
    if value is None:
        return None
    if not shared_balance:
        raise invalid("daily_cap", "is for a customer account that shares its reseller's balance")
    if not is_whole(value) or not isinstance(value, int) or not 1 <= value <= MAX_AMOUNT:
        raise invalid("daily_cap", f"must be a whole number of credits, 1 to {MAX_AMOUNT}")
    return value


def _region(value: object) -> str:
    if isinstance(value, str) and value in REGIONS:
        return value
    if value == "TR":
        raise invalid("region", "messages to Turkey cost one credit a segment, not a price")
    raise invalid("region", "must be a country's ISO code in capitals (DE), or * for the rest")


async def _price_within_floor(
    conn: AsyncConnection, parent_id: int, region: str, kurus: int, whose: str
) -> None:
    floor = prices.price_in((await prices.prices_for(conn, {parent_id}))[parent_id], region)
    if kurus < floor:
        where = "every other country" if region == "*" else region
        raise invalid(
            "price",
            f"{kurus / 100:.2f} TRY a segment to {where} is below {whose} price,"
            f" {floor / 100:.2f} TRY: a customer's price cannot be lower",
        )


def _usage_of(child: ChildView, totals: list[reports.DayTotal]) -> list[UsageRow]:
    days: dict[date, list[int]] = {}
    for total in totals:
        # messages, credits, refunded credits, kuruş, refunded kuruş
        day = days.setdefault(total.day, [0, 0, 0, 0, 0])
        refunded = total.status.refunded
        day[0] += total.count
        day[1] += total.credits
        day[2] += total.credits if refunded else 0
        day[3] += total.international_kurus
        day[4] += total.international_kurus if refunded else 0
    return [
        UsageRow(child.id, child.name, day, n, credits, credits, back, kurus, kurus_back)
        for day, (n, credits, back, kurus, kurus_back) in sorted(days.items())
    ]
