"""Accepting messages: ids, the debit, the message rows and the queue entries in one transaction.

Either all of it commits or none of it does, so an accepted message is always paid for and
queued, and a refused request leaves no trace.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.lifecycle import MessageStatus
from ileti.store import ledger
from ileti.store.ledger import Balance, EntryKind
from ileti.store.models import BlacklistEntry, Group, IdSequence, Message, QueueEntry, SenderId

messages = Message.__table__
groups = Group.__table__
queue = QueueEntry.__table__
sender_ids = SenderId.__table__
blacklist = BlacklistEntry.__table__
id_sequence = IdSequence.__table__

# Lower is dispatched first.
PRIORITY_OTP = 0
PRIORITY_SINGLE = 1
PRIORITY_BULK = 2


@dataclass(frozen=True, slots=True)
class NewMessage:
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
    messages: Sequence[NewMessage]
    # A group row (and a group id) for /group/* requests.
    grouped: bool = False
    total_recipients: int = 1


@dataclass(frozen=True, slots=True)
class Stored:
    message_ids: list[int]
    group_id: int | None


async def title_status(conn: AsyncConnection, account_id: int, title: str) -> str | None:
    return (
        await conn.execute(
            select(sender_ids.c.status).where(
                sender_ids.c.account_id == account_id, sender_ids.c.title == title
            )
        )
    ).scalar_one_or_none()


async def blacklisted_numbers(
    conn: AsyncConnection, account_id: int, numbers: Iterable[str], advertising: bool
) -> set[str]:
    """Which of ``numbers`` the account has blacklisted for this kind of content."""
    wanted = set(numbers)
    stmt = select(blacklist.c.number).where(blacklist.c.account_id == account_id)
    if not advertising:
        stmt = stmt.where(blacklist.c.scope == "all")
    if len(wanted) <= 500:
        stmt = stmt.where(blacklist.c.number.in_(wanted))
    return {row[0] for row in await conn.execute(stmt)} & wanted


async def allocate_ids(conn: AsyncConnection, count: int) -> list[int]:
    """``count`` fresh ids from the sequence that messages and groups share."""
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = await conn.execute(
            text("SELECT nextval('message_ids') FROM generate_series(1, :n)"), {"n": count}
        )
        return [row[0] for row in rows]
    stmt = sqlite_insert(id_sequence).values(name="messages", next_id=count + 1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[id_sequence.c.name],
        set_={"next_id": id_sequence.c.next_id + count},
    ).returning(id_sequence.c.next_id)
    next_id = (await conn.execute(stmt)).scalar_one()
    return list(range(next_id - count, next_id))


async def store(conn: AsyncConnection, submission: Submission) -> Stored:
    """Debit, store and queue. Raises ``InsufficientBalance`` (and writes nothing)."""
    count = len(submission.messages)
    ids = await allocate_ids(conn, count + (1 if submission.grouped else 0))
    group_id = ids.pop(0) if submission.grouped else None
    totals: dict[Balance, int] = {}
    for message in submission.messages:
        totals[message.cost_balance] = totals.get(message.cost_balance, 0) + message.cost
    # One debit per request and balance: a group of 100,000 is one ledger entry, and its
    # reference (the message or group id) can be debited only once.
    reference = f"group:{group_id}" if group_id is not None else f"message:{ids[0]}"
    for balance, amount in sorted(totals.items()):
        if amount:
            await ledger.post(
                conn,
                submission.account_id,
                balance,
                -amount,
                EntryKind.DEBIT,
                reference if len(totals) == 1 else f"{reference}:{balance.value}",
            )
    if group_id is not None:
        await conn.execute(
            insert(groups).values(
                id=group_id,
                account_id=submission.account_id,
                key_id=submission.key_id,
                title=submission.title,
                total_recipients=submission.total_recipients,
                accepted=count,
                number_of_sms=sum(m.segments for m in submission.messages),
                created_at=submission.created_at,
            )
        )
    await conn.execute(
        insert(messages),
        [
            {
                "id": message_id,
                "account_id": submission.account_id,
                "key_id": submission.key_id,
                "group_id": group_id,
                "kind": submission.kind,
                "title": submission.title,
                "sentto": m.sentto,
                "country": m.country,
                "operator": m.operator,
                "text": m.text,
                "sms_lang": m.sms_lang,
                "lang": m.lang,
                "segments": m.segments,
                "content_type": submission.content_type,
                "status": MessageStatus.QUEUED.value,
                "cost": m.cost,
                "cost_balance": m.cost_balance.value,
                "created_at": submission.created_at,
                "due_at": submission.due_at,
                "expires_at": submission.expires_at,
                "attempts": 0,
            }
            for message_id, m in zip(ids, submission.messages, strict=True)
        ],
    )
    due_ms = int(submission.due_at.timestamp() * 1000)
    await conn.execute(
        insert(queue),
        [
            {
                "message_id": message_id,
                "priority": submission.priority,
                "due_ms": due_ms,
                "lease_until_ms": 0,
                "attempts": 0,
            }
            for message_id in ids
        ],
    )
    return Stored(ids, group_id)


async def queue_depth(conn: AsyncConnection) -> int:
    return (await conn.execute(select(func.count()).select_from(queue))).scalar_one()
