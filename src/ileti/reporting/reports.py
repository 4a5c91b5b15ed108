"""The account's view of its messages: one message's state or a group's counts, filtered pages,
and totals per Istanbul day. Every read is scoped to the account: another account's id reads
exactly like an unknown one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ileti import codes
from ileti.codes import GatewayError
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.lifecycle import MessageStatus
from ileti.domain.schedule import ISTANBUL
from ileti.store import reports as store
from ileti.store import sends
from ileti.store.db import Database
from ileti.store.reports import DayTotal, GroupView, MessageFilter, MessageView, TextedMessage
from ileti.store.sends import MessageDetail, MessagePartView, RecentSend, Waiting
from ileti.validation import phone_number

__all__ = [
    "DayTotal",
    "GroupView",
    "MessageDetail",
    "MessagePartView",
    "MessageQuery",
    "MessageView",
    "Overview",
    "RecentSend",
    "Reports",
    "SentMessage",
    "Summary",
    "TextedMessage",
    "Waiting",
]

# A summary without dates covers the last seven days up to today in Istanbul.
SUMMARY_DAYS = 7
# What an overview shows: days of totals, and the last sends.
OVERVIEW_DAYS = 14
OVERVIEW_SENDS = 10


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """Which messages a page holds: Istanbul days, state, title, number, group; and where the
    page starts (below the ``next`` of the page before)."""

    date_from: date | None = None
    date_to: date | None = None
    status: MessageStatus | None = None
    title: str | None = None
    number: object = None  # a phone number in any form people write one
    group_id: int | None = None
    limit: int = 100
    before: int | None = None
    # Each message's text too (``TextedMessage``): what a customer checks a personalised
    # message by.
    with_text: bool = False


@dataclass(frozen=True, slots=True)
class Summary:
    date_from: date
    date_to: date
    days: list[DayTotal]


@dataclass(frozen=True, slots=True)
class SentMessage:
    message: MessageDetail
    parts: list[MessagePartView]


@dataclass(frozen=True, slots=True)
class Overview:
    """An account at a glance: the totals of the last days (today's last), the last sends, and
    the messages still on their way."""

    today: date
    days: Summary
    recent: list[RecentSend]
    waiting: Waiting

    @property
    def today_totals(self) -> list[DayTotal]:
        return [total for total in self.days.days if total.day == self.today]


class Reports:
    def __init__(
        self, db: Database, clock: Clock = SYSTEM_CLOCK, *, walk: int = store.WALK
    ) -> None:
        self.db = db
        self.clock = clock
        # How many messages a page filtered by state or title looks at, at most (the panel
        # says so when a page comes back short).
        self.walk = walk

    async def status(self, account_id: int, sms_id: int) -> MessageView | GroupView:
        """A message's state, or for a group's id its messages' counts per state."""
        async with self.db.read() as conn:
            message = await store.find_message(conn, account_id, sms_id)
        if message is not None:
            return message
        # A group's counts read each of its messages (up to 100,000): a report.
        async with self.db.read(report=True) as conn:
            group = await store.find_group(conn, account_id, sms_id)
        if group is None:
            raise GatewayError(codes.NOT_FOUND)
        return group

    async def messages(
        self, account_id: int, query: MessageQuery
    ) -> tuple[list[MessageView], int | None]:
        """A page of messages, newest first, and where the next one starts (None: the last).
        Filtered by state or title alone, a page may be short, even empty, and have a next."""
        since, until = store.istanbul_days(query.date_from, query.date_to)
        criteria = MessageFilter(
            since=since,
            until=until,
            status=query.status,
            title=query.title,
            # Any valid number: a report finds what was sent, whatever the number is now.
            sentto=phone_number(query.number, "number", receiving=False).digits
            if query.number is not None
            else None,
            group_id=query.group_id,
        )
        async with self.db.read(report=True) as conn:
            return await store.message_page(
                conn,
                account_id,
                criteria,
                limit=query.limit,
                before=query.before,
                with_text=query.with_text,
                walk=self.walk,
            )

    async def summary(
        self, account_id: int, first: date | None = None, last: date | None = None
    ) -> Summary:
        """Counts and charges per Istanbul day and state, from ``first`` to ``last``: read
        from the counts kept as messages move, in the same time however many there are. A
        dashboard asks for the same (today's states are the last day's rows)."""
        last = last or self.clock.now().astimezone(ISTANBUL).date()
        if first is None:
            first = date.fromordinal(max(1, last.toordinal() - (SUMMARY_DAYS - 1)))
        since, until = store.istanbul_days(first, last)
        async with self.db.read(report=True) as conn:
            days = await store.day_totals(conn, account_id, since, until)
        return Summary(first, last, days)

    async def message(self, account_id: int, sms_id: int) -> SentMessage:
        """One message in full (its text, price and operator parts)."""
        async with self.db.read() as conn:
            message = await sends.message_detail(conn, account_id, sms_id)
            if message is None:
                raise GatewayError(codes.NOT_FOUND)
            parts = await sends.message_parts(conn, sms_id)
        return SentMessage(message, parts)

    async def group(self, account_id: int, group_id: int) -> GroupView:
        """A group and its messages' counts per state."""
        async with self.db.read(report=True) as conn:
            group = await store.find_group(conn, account_id, group_id)
        if group is None:
            raise GatewayError(codes.NOT_FOUND)
        return group

    async def overview(self, account_id: int) -> Overview:
        now = self.clock.now()
        today = now.astimezone(ISTANBUL).date()
        days = await self.summary(
            account_id, date.fromordinal(today.toordinal() - (OVERVIEW_DAYS - 1)), today
        )
        async with self.db.read() as conn:
            recent = await sends.recent_sends(conn, account_id, OVERVIEW_SENDS)
            waiting = await sends.waiting(conn, account_id, now)
        return Overview(today, days, recent, waiting)
