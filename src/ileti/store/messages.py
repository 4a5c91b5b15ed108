"""Accepting messages: ids, the debit, the message rows and the queue entries in one transaction.

Either all of it commits or none of it does, so an accepted message is always paid for and
queued, and a refused request leaves no trace.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, overload

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.clock import to_ms
from ileti.domain.lifecycle import MessageStatus
from ileti.domain.pricing import Balance
from ileti.store import ledger, payers
from ileti.store.ledger import EntryKind, InsufficientBalance
from ileti.store.models import Group, Message, QueueEntry, table_of
from ileti.store.sql import (
    COPY_FROM,
    POSTGRES_ONLY,
    Insert,
    Raw,
    by_dialect,
    columns_of,
    connector_of,
    together,
)


class NewMessage(NamedTuple):
    """One recipient's message. A tuple: a group makes 100,000 of them per request."""

    sentto: str
    country: str
    operator: str | None
    text: str
    sms_lang: str
    lang: str
    segments: int
    cost: int
    cost_balance: Balance


@dataclass(frozen=True, slots=True)
class Submission:
    account_id: int
    key_id: int
    title: str
    kind: str  # single, group or otp
    content_type: int
    priority: int
    created_at: datetime
    due_at: datetime
    expires_at: datetime
    messages: Sequence[NewMessage]  # a group's are ``MadeMessages``
    # A group row (and a group id) for /group/* requests.
    grouped: bool = False
    total_recipients: int = 1
    segments: int | None = None  # of all the messages, when the caller counted them

    def number_of_sms(self) -> int:
        if self.segments is not None:
            return self.segments
        return sum(m.segments for m in self.messages)


class MadeMessages(Sequence[NewMessage]):
    """Messages made when they are read, a slice at a time (``make(start, stop)``): a group of
    a million is stored without a million ``NewMessage``s held at once. ``costs`` totals them
    per balance without making them."""

    __slots__ = ("_count", "_make", "costs")

    def __init__(
        self,
        count: int,
        make: Callable[[int, int], list[NewMessage]],
        costs: Callable[[], dict[Balance, int]],
    ) -> None:
        self._count = count
        self._make = make
        self.costs = costs

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> NewMessage: ...

    @overload
    def __getitem__(self, index: slice) -> list[NewMessage]: ...

    def __getitem__(self, index: int | slice) -> NewMessage | list[NewMessage]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            if step != 1:
                return [self[at] for at in range(start, stop, step)]
            return self._make(start, stop) if start < stop else []
        at = index + self._count if index < 0 else index
        if not 0 <= at < self._count:
            raise IndexError(index)
        return self._make(at, at + 1)[0]

    def __iter__(self) -> Iterator[NewMessage]:
        for start in range(0, self._count, _MADE_AT_ONCE):
            yield from self._make(start, min(start + _MADE_AT_ONCE, self._count))


_MADE_AT_ONCE = 1_000


@dataclass(frozen=True, slots=True)
class Stored:
    message_ids: list[int]
    group_id: int | None


# One read for both: a batch's transaction waits on each round trip.
_SWITCHES_AND_TITLES = Raw(
    "SELECT a.id AS account_id, a.international_enabled, s.title, s.status FROM accounts AS a"
    " LEFT JOIN sender_ids AS s ON s.account_id = a.id AND s.title = ANY($2)"
    " WHERE a.id = ANY($1)"
)
_WHOLE_BLACKLISTS = Raw(
    "SELECT account_id, number, scope FROM blacklist WHERE account_id = ANY($1)"
)
_BLACKLISTED = Raw(_WHOLE_BLACKLISTS.postgres + " AND number = ANY($2)")
_ACCOUNT_TITLES = Raw("SELECT account_id, title FROM sender_ids WHERE account_id = ANY($1)")
# The balances are the payer's: a shared-balance child spends its parent's.
_PAYER = Raw(
    "SELECT p.credits, p.international_kurus, a.international_enabled, s.status AS title_status"
    " FROM accounts a JOIN accounts p ON p.id = CASE WHEN a.shared_balance"
    " AND a.parent_id IS NOT NULL THEN a.parent_id ELSE a.id END"
    " LEFT JOIN sender_ids s ON s.account_id = a.id AND s.title = $2"
    " WHERE a.id = $1"
)
# Ids: a PostgreSQL sequence gives them one by one (other processes draw from it too); on
# SQLite, whose writes are serial, a counter row moves on by the whole count at once.
_NEXT_IDS = Raw(
    "SELECT nextval('message_ids') AS id FROM generate_series(1, $1)", sqlite=POSTGRES_ONLY
)
_MOVE_ID_COUNTER = Raw(
    "INSERT INTO id_sequence (name, next_id) VALUES ('messages', $1 + 1)"
    " ON CONFLICT (name) DO UPDATE SET next_id = id_sequence.next_id + $1 RETURNING next_id"
)


async def switches_and_titles(
    conn: AsyncConnection, account_ids: set[int], titles: set[str]
) -> tuple[dict[int, bool], dict[tuple[int, str], str]]:
    """Whether each account may send abroad, and (account, title) → status for those of
    ``titles`` the accounts own."""
    switches: dict[int, bool] = {}
    statuses: dict[tuple[int, str], str] = {}
    for row in await _SWITCHES_AND_TITLES.rows(conn, account_ids, titles):
        switches[row["account_id"]] = bool(row["international_enabled"])
        if row["title"] is not None:
            statuses[row["account_id"], row["title"]] = row["status"]
    return switches, statuses


# Numbers a blacklist lookup names; beyond them the accounts' whole blacklists are read.
BLACKLIST_LOOKUP = 500


async def blacklisted(
    conn: AsyncConnection, account_ids: set[int], numbers: set[str] | None
) -> set[tuple[int, str, str]]:
    """(account, number, scope) for those of ``numbers`` these accounts have blacklisted;
    every one they have when ``numbers`` is None (a big group names too many)."""
    # A short list is looked up; against a long one the accounts' whole blacklists are read
    # once instead.
    if numbers is not None and len(numbers) <= BLACKLIST_LOOKUP:
        rows = await _BLACKLISTED.rows(conn, account_ids, numbers)
    else:
        rows = await _WHOLE_BLACKLISTS.rows(conn, account_ids)
    return {
        (row["account_id"], row["number"], row["scope"])
        for row in rows
        if numbers is None or row["number"] in numbers
    }


async def account_titles(conn: AsyncConnection, account_ids: set[int]) -> dict[int, list[str]]:
    """Every title these accounts own (to name the one a refused title was meant to be)."""
    titles: dict[int, list[str]] = {}
    for row in await _ACCOUNT_TITLES.rows(conn, account_ids):
        titles.setdefault(row["account_id"], []).append(row["title"])
    return titles


@dataclass(frozen=True, slots=True)
class Payer:
    """What an account can pay with, and the status of the title a send names (None: the
    account has no such title)."""

    credits: int
    international_kurus: int
    international: bool
    title_status: str | None


async def payer(conn: AsyncConnection, account_id: int, title: str) -> Payer | None:
    """An account's balances, switch and one title's status, in one read."""
    row = await _PAYER.first(conn, account_id, title)
    if row is None:
        return None
    return Payer(
        credits=row["credits"],
        international_kurus=row["international_kurus"],
        international=bool(row["international_enabled"]),
        title_status=row["title_status"],
    )


async def allocate_ids(conn: AsyncConnection, count: int) -> list[int]:
    """``count`` fresh ids from the sequence that messages and groups share."""
    if count <= 0:
        return []
    return await by_dialect(conn, _ALLOCATE)(conn, count)


async def _postgres_ids(conn: AsyncConnection, count: int) -> list[int]:
    return [row["id"] for row in await _NEXT_IDS.rows(conn, count)]


async def _sqlite_ids(conn: AsyncConnection, count: int) -> list[int]:
    [row] = await _MOVE_ID_COUNTER.rows(conn, count)
    return list(range(row["next_id"] - count, row["next_id"]))


_ALLOCATE = {"postgresql": _postgres_ids, "sqlite": _sqlite_ids}


async def store(conn: AsyncConnection, submission: Submission) -> Stored:
    """Debit, store and queue. Raises ``InsufficientBalance`` (and writes nothing)."""
    [stored] = await store_many(conn, [submission], submission.created_at)
    if isinstance(stored, InsufficientBalance):
        raise stored
    return stored


async def store_many(
    conn: AsyncConnection, submissions: Sequence[Submission], now: datetime
) -> list[Stored | InsufficientBalance]:
    """Several requests in one go: their debits, rows and queue entries with a few statements.

    A request its account cannot pay for gets an ``InsufficientBalance`` in its place and
    writes nothing; the others are stored.
    """
    ids = await allocate_ids(
        conn, sum(len(s.messages) + (1 if s.grouped else 0) for s in submissions)
    )
    planned: list[tuple[Submission, int | None, list[int]]] = []
    cursor = 0
    for submission in submissions:
        group_id = None
        if submission.grouped:
            group_id, cursor = ids[cursor], cursor + 1
        planned.append((submission, group_id, ids[cursor : cursor + len(submission.messages)]))
        cursor += len(submission.messages)
    if cursor >= by_dialect(conn, _STORED_BEFORE_DEBIT_FROM):
        savepoint = await conn.begin_nested()
        await _insert(conn, planned)
        if not await _debit(conn, planned, now):
            await savepoint.commit()
            return [Stored(message_ids, group_id) for _, group_id, message_ids in planned]
        # All of it undone: stored below in the usual order, what can be paid.
        await savepoint.rollback()
    refused = await _debit(conn, planned, now)
    results: list[Stored | InsufficientBalance] = []
    stored: list[tuple[Submission, int | None, list[int]]] = []
    for index, (submission, group_id, message_ids) in enumerate(planned):
        if index in refused:
            results.append(refused[index])
        else:
            results.append(Stored(message_ids, group_id))
            stored.append((submission, group_id, message_ids))
    await _insert(conn, stored)
    return results


# From this many messages, a request's rows are stored before its payers' balances are taken
# on PostgreSQL: a balance stays locked from its debit to the commit, and a group's insert
# (about 10 ms a thousand rows) would hold every other send of the account that long. SQLite
# writes one transaction at a time anyway. A request refused for want of balance is undone to
# before its rows and stored again debit first (rare, and it costs the insert twice).
_STORED_BEFORE_DEBIT_FROM = {"sqlite": sys.maxsize, "postgresql": 1_000}


def _debits(
    submission: Submission, group_id: int | None, message_ids: list[int]
) -> list[tuple[Balance, int, str]]:
    """(balance, amount, reference) per balance the request draws on."""
    messages = submission.messages
    totals: dict[Balance, int] = {}
    if isinstance(messages, MadeMessages):
        totals = messages.costs()
    else:
        for message in messages:
            totals[message.cost_balance] = totals.get(message.cost_balance, 0) + message.cost
    # One debit per request and balance: a group of 100,000 is one ledger entry, and its
    # reference (the message or group id) can be debited only once.
    reference = f"group:{group_id}" if group_id is not None else f"message:{message_ids[0]}"
    return [
        (balance, -amount, reference if len(totals) == 1 else f"{reference}:{balance.value}")
        for balance, amount in sorted(totals.items())
        if amount
    ]


async def _debit(
    conn: AsyncConnection, planned: list[tuple[Submission, int | None, list[int]]], now: datetime
) -> dict[int, InsufficientBalance]:
    """Debit every request from its payer (its account, or a shared-balance child's parent);
    returns the ones refused for want of balance or of the child's daily cap."""
    payer_of = await payers.payers(conn, {submission.account_id for submission, _, _ in planned})
    await ledger.hold(conn, {payer.payer_id for payer in payer_of.values()})
    by_balance: dict[tuple[int, Balance], list[tuple[int, int, str]]] = {}
    short: list[int] = []
    for index, (submission, group_id, message_ids) in enumerate(planned):
        payer = payer_of[submission.account_id]
        if payer.daily_cap is not None:
            short.append(index)  # counted against its day one request at a time, below
            continue
        for balance, amount, reference in _debits(submission, group_id, message_ids):
            by_balance.setdefault((payer.payer_id, balance), []).append((index, amount, reference))
    refused: dict[int, InsufficientBalance] = {}
    for (payer_id, balance), entries in by_balance.items():
        try:
            await ledger.post_many(
                conn, payer_id, balance, EntryKind.DEBIT, [(a, r) for _, a, r in entries], now
            )
        except InsufficientBalance:
            short += [index for index, _, _ in entries]
    # Where the sum could not be paid, take the requests one at a time, in order, so that
    # as many are accepted as the balance covers.
    for index in sorted(set(short)):
        submission, group_id, message_ids = planned[index]
        payer = payer_of[submission.account_id]
        try:
            async with conn.begin_nested():
                for balance, amount, reference in _debits(submission, group_id, message_ids):
                    # The payer's balance before the child's day: every transaction takes
                    # the balance first, so none holds a day while it waits for a balance.
                    await ledger.post(
                        conn, payer.payer_id, balance, amount, EntryKind.DEBIT, reference, now
                    )
                    if payer.daily_cap is not None and balance is Balance.MAIN:
                        await _within_cap(conn, payer, -amount, now)
        except InsufficientBalance as exc:
            refused[index] = exc
    return refused


async def _within_cap(
    conn: AsyncConnection, payer: payers.Payer, credits: int, now: datetime
) -> None:
    """Count a shared child's credits against its day, or refuse them with what is left."""
    if await payers.spend(conn, payer, credits, now) is None:
        spent = await payers.spent_today(conn, payer.account_id, now)
        assert payer.daily_cap is not None
        raise InsufficientBalance(
            payer.account_id, Balance.MAIN, credits, max(payer.daily_cap - spent, 0)
        )


_GROUP_COLUMNS = (
    "id",
    "account_id",
    "key_id",
    "title",
    "total_recipients",
    "accepted",
    "number_of_sms",
    "created_at",
)
_MESSAGE_COLUMNS = (
    "id",
    "account_id",
    "key_id",
    "group_id",
    "kind",
    "title",
    "sentto",
    "country",
    "operator",
    "text",
    "sms_lang",
    "lang",
    "segments",
    "content_type",
    "status",
    "cost",
    "cost_balance",
    "created_at",
    "due_at",
    "expires_at",
    "attempts",
)
_QUEUE_COLUMNS = ("message_id", "priority", "due_ms", "lease_until_ms", "attempts")


async def _insert(
    conn: AsyncConnection, stored: list[tuple[Submission, int | None, list[int]]]
) -> None:
    # Rows are built as tuples in column order, times in the form the database takes: a
    # group's 100,000 rows are not looked at again.
    stamp = connector_of(conn).stamp
    group_rows = [
        (
            group_id,
            s.account_id,
            s.key_id,
            s.title,
            s.total_recipients,
            len(s.messages),
            s.number_of_sms(),
            stamp(s.created_at),
        )
        for s, group_id, _ in stored
        if group_id is not None
    ]
    if group_rows:
        await _INSERT_GROUPS.run_rows(conn, group_rows, converted=True)
    queued = MessageStatus.QUEUED.value
    chunk = by_dialect(conn, _ROWS_AT_ONCE)
    message_rows: list[tuple[Any, ...]] = []
    queue_rows: list[tuple[int, int, int, int, int]] = []
    for s, group_id, message_ids in stored:
        account_id, key_id, kind, title, content_type = (
            s.account_id, s.key_id, s.kind, s.title, s.content_type
        )  # fmt: skip
        created, due, expires = stamp(s.created_at), stamp(s.due_at), stamp(s.expires_at)
        priority, due_ms = s.priority, to_ms(s.due_at)
        for start in range(0, len(message_ids), chunk):
            ids = message_ids[start : start + chunk]
            message_rows.extend(
                (
                    message_id,
                    account_id,
                    key_id,
                    group_id,
                    kind,
                    title,
                    m.sentto,
                    m.country,
                    m.operator,
                    m.text,
                    m.sms_lang,
                    m.lang,
                    m.segments,
                    content_type,
                    queued,
                    m.cost,
                    m.cost_balance.value,
                    created,
                    due,
                    expires,
                    0,
                )
                for message_id, m in zip(ids, s.messages[start : start + chunk], strict=True)
            )
            queue_rows.extend((message_id, priority, due_ms, 0, 0) for message_id in ids)
            if len(message_rows) >= chunk:
                await _insert_rows(conn, message_rows, queue_rows)
                message_rows, queue_rows = [], []
                # The transaction goes on; everyone else's requests go first.
                await asyncio.sleep(0)
    await _insert_rows(conn, message_rows, queue_rows)


async def _insert_rows(
    conn: AsyncConnection,
    message_rows: list[tuple[Any, ...]],
    queue_rows: list[tuple[int, int, int, int, int]],
) -> None:
    if not message_rows:
        return
    if conn.dialect.name == "postgresql" and len(message_rows) < COPY_FROM:
        await _INSERT_MESSAGES_QUEUED.run(conn, *columns_of(message_rows), *columns_of(queue_rows))
        return
    await _INSERT_MESSAGES.run_rows(conn, message_rows, converted=True)
    await _INSERT_QUEUED.run_rows(conn, queue_rows, converted=True)


# A group's rows go in this many at a time, the event loop serving others in between: on
# SQLite, whose statements run on the loop, a thousand rows take a few milliseconds; on
# PostgreSQL the loop only encodes them, and each COPY costs a round trip.
_ROWS_AT_ONCE = {"sqlite": 1_000, "postgresql": 10_000}


# Rows are passed as tuples in column order, times in the form the database takes: a group's
# 100,000 rows go by COPY on PostgreSQL, through the driver's ``executemany`` on SQLite.
_INSERT_GROUPS = Insert(table_of(Group), _GROUP_COLUMNS, copy=True)
_INSERT_MESSAGES = Insert(table_of(Message), _MESSAGE_COLUMNS, copy=True)
_INSERT_QUEUED = Insert(table_of(QueueEntry), _QUEUE_COLUMNS, copy=True)
# A batch of single sends: its messages and their queue entries in one round trip.
_INSERT_MESSAGES_QUEUED = together(_INSERT_MESSAGES, _INSERT_QUEUED)
