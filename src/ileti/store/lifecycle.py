"""A message's moves in storage: to ``sent``, to its final state, or called off while queued,
with what comes with each.

Every change of a message's state is made here, by one of the moves ``domain.lifecycle``
allows, with its source state as the condition of the update: a move that another process
made first changes nothing the second time. In the same statements' transaction go what the
move brings: the operator's part ids and the queue entry's end for ``sent``, the refund for a
message that ends failed or expired, and the webhook event for each move a key asked to hear
of (the outbox row exists exactly when its state change committed).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.lifecycle import CANCELLED, ON_THEIR_WAY, SUBMITTED, MessageStatus, Move
from ileti.domain.pricing import Balance
from ileti.store import ledger, payers, queue
from ileti.store import webhooks as outbox
from ileti.store.ledger import EntryKind
from ileti.store.message_span import MAX_ID
from ileti.store.models import MessagePart, table_of
from ileti.store.sql import Insert, Raw, moment, reader


@dataclass(frozen=True, slots=True)
class SubmittedPart:
    part: int
    operator_id: str | None  # None: this part was refused permanently


class Moved(NamedTuple):
    """A message that just moved: what its refund and its event need."""

    id: int
    account_id: int
    key_id: int
    cost: int
    cost_balance: str
    sentto: str
    segments: int
    group_id: int | None
    # Whether its key has a webhook: read with the message, so that a batch whose keys have
    # none (most) costs no look-up of their settings.
    hooked: bool


_moved = reader(Moved)
_MOVED = (
    "id, account_id, key_id, cost, cost_balance, sentto, segments, group_id, EXISTS (SELECT 1"
    " FROM api_keys AS k WHERE k.id = messages.key_id AND k.webhook IS NOT NULL) AS hooked"
)
_LEAVING = Raw(f"SELECT {_MOVED}, status FROM messages WHERE id = ANY($1)")
_RECORD_PARTS = Insert(
    table_of(MessagePart),
    ("message_id", "part", "carrier", "operator_id", "status", "done_at", "error"),
)
# A move names its messages: each is one probe of the primary key, and its source state is
# checked on the row found. (While an index held the state, PostgreSQL's statistics lagged
# the states' sizes and it chose to walk every message in the source state and filter them
# by id: 12,000-19,000 index entries for a receipt batch of 30-60 messages, 3 ms of its 4.)
# One statement per carrier (a batch's messages nearly all go to one), the ids a list: joined
# with the batch as a table (``unnest``) to give each its carrier, a batch large beside a young
# table was read as a walk of the whole table, and with stale statistics a join reads the
# batch again for every row (62,000 comparisons for 250 messages).
_MARK_SENT = Raw(
    "UPDATE messages SET status = $2, sent_at = $3, carrier = $4 WHERE id = ANY($1) AND status = $5"
)
_FINISH = Raw(
    "UPDATE messages SET status = $2, done_at = $3, error_reason = $4"
    f" WHERE id = ANY($1) AND status = $5 RETURNING {_MOVED}"
)
# The sweeper's walk: every message once, in the order its validity ends, from where the last
# walk stopped. No index holds the state (a message's moves are then updated in place on
# PostgreSQL), so the walk reads each message's row and picks those still in the source state.
_EXPIRING = Raw(
    "SELECT id, expires_at, status FROM messages WHERE (expires_at, id) > ($1, $2)"
    " AND expires_at <= $3 ORDER BY expires_at, id LIMIT $4"
)
_WALKED = Raw("SELECT expires_at, message_id FROM sweep_marks WHERE name = $1")
_KEEP_WALKED = Raw(
    "INSERT INTO sweep_marks (name, expires_at, message_id) VALUES ($1, $2, $3)"
    " ON CONFLICT (name) DO UPDATE SET expires_at = excluded.expires_at,"
    " message_id = excluded.message_id"
)
# Cancelling: the queue entries of a message, or of a group's messages, that no dispatcher has
# claimed, taken off the queue. ``lease_owner IS NULL``: never claimed, or given back by its
# claimer with the outcome recorded (a retry, a stop). A live lease is a submit under way; a
# lapsed one (its owner kept) a claim whose worker stopped before recording what the operator
# said, which may have reached it: both are left. On PostgreSQL the entries are locked as the
# dispatcher's claim locks them (``FOR UPDATE SKIP LOCKED``), so an entry being claimed is
# skipped here, and one taken here is skipped by the claim and then gone.
_WITHDRAW = (
    "DELETE FROM dispatch_queue WHERE message_id IN (SELECT q.message_id FROM dispatch_queue"
    " AS q JOIN messages AS m ON m.id = q.message_id WHERE m.{0} = $1 AND m.account_id = $2"
    " AND m.status = $3 AND q.lease_owner IS NULL{1}) RETURNING message_id"
)
_WITHDRAW_MESSAGE, _WITHDRAW_GROUP = (
    Raw(
        _WITHDRAW.format(column, " FOR UPDATE OF q SKIP LOCKED"),
        sqlite=_WITHDRAW.format(column, ""),
    )
    for column in ("id", "group_id")
)
_CANCEL = Raw(
    "UPDATE messages SET status = $2, done_at = $3"
    f" WHERE id = ANY($1) AND status = $4 RETURNING {_MOVED}"
)
_NAMED_MESSAGE = Raw("SELECT 1 AS total FROM messages WHERE id = $1 AND account_id = $2")
_NAMED_GROUP = Raw("SELECT accepted AS total FROM groups WHERE id = $1 AND account_id = $2")
_CANCELLABLE = (
    "SELECT count(*) AS count FROM dispatch_queue AS q JOIN messages AS m"
    " ON m.id = q.message_id WHERE m.{0} = $1 AND m.account_id = $2 AND m.status = $3"
    " AND q.lease_owner IS NULL"
)
_CANCELLABLE_MESSAGE, _CANCELLABLE_GROUP = (
    Raw(_CANCELLABLE.format(column)) for column in ("id", "group_id")
)
# From the counts kept per account, hour and state (PostgreSQL adds the changes not yet folded,
# in the same snapshot), from an hour on: the hours before it hold none on their way.
_COUNTED = "SELECT hour, status, count FROM {} WHERE status IN ($1, $2) AND hour >= $3"
_ON_THEIR_WAY = Raw(
    "SELECT hour, status, sum(count) AS count FROM"
    f" ({_COUNTED.format('message_counts')} UNION ALL"
    f" {_COUNTED.format('message_count_changes')}) AS counted GROUP BY hour, status",
    sqlite="SELECT hour, status, sum(count) AS count FROM message_counts"
    " WHERE status IN ($1, $2) AND hour >= $3 GROUP BY hour, status",
)


async def mark_sent(
    conn: AsyncConnection,
    sent: Sequence[tuple[int, str, list[SubmittedPart]]],
    now: datetime,
) -> None:
    """Messages a carrier took: (id, carrier, parts with the operator's ids). Their parts are
    recorded, they move to ``sent``, and they leave the queue. A message that has moved on
    already (recorded by a worker that claimed it too, once a claim lapsed) keeps the parts
    recorded first: the others of the batch are recorded all the same."""
    if not sent:
        return
    ids = [message_id for message_id, _, _ in sent]
    # Read before they move, in the same transaction: only messages that do move announce it.
    moving = [
        _moved(row) for row in await _LEAVING.rows(conn, ids) if row["status"] == SUBMITTED.source
    ]
    await outbox.announce(conn, moving, SUBMITTED.target, None, now)
    sent_value = SUBMITTED.target.value
    failed_value = MessageStatus.FAILED.value
    moving_ids = {row.id for row in moving}
    await _RECORD_PARTS.run_rows(
        conn,
        [
            (message_id, p.part, carrier, p.operator_id, sent_value, None, None)
            if p.operator_id
            else (message_id, p.part, carrier, "", failed_value, now, "refused by the operator")
            for message_id, carrier, message_parts in sent
            if message_id in moving_ids
            for p in message_parts
        ],
    )
    by_carrier: dict[str, list[int]] = {}
    for message_id, carrier, _ in sent:
        by_carrier.setdefault(carrier, []).append(message_id)
    for carrier, carried in by_carrier.items():
        await _MARK_SENT.run(
            conn, carried, SUBMITTED.target.value, now, carrier, SUBMITTED.source.value
        )
    await queue.dequeue(conn, ids)


async def finish(
    conn: AsyncConnection,
    message_ids: Collection[int],
    move: Move,
    now: datetime,
    reason: str | None,
) -> list[int]:
    """Make ``move`` to a final state for those of the messages in its source state,
    refunding when the state says so; the ids that moved."""
    if not message_ids:
        return []
    rows = [
        _moved(row)
        for row in await _FINISH.rows(
            conn, list(message_ids), move.target.value, now, reason, move.source.value
        )
    ]
    if move.target.refunded:
        paid_by = await payers.payers(conn, {row.account_id for row in rows if row.cost})
        await ledger.hold(conn, {payer.payer_id for payer in paid_by.values()})
        for row in rows:
            if row.cost:
                await ledger.post(
                    conn,
                    paid_by[row.account_id].payer_id,
                    Balance(row.cost_balance),
                    row.cost,
                    EntryKind.REFUND,
                    f"message:{row.id}",
                    now,
                )
    await outbox.announce(conn, rows, move.target, reason, now)
    return [row.id for row in rows]


async def cancel(
    conn: AsyncConnection,
    account_id: int,
    now: datetime,
    *,
    message_id: int | None = None,
    group_id: int | None = None,
) -> list[Moved]:
    """Call off the account's message, or its group's messages, that wait unclaimed in the
    queue: off the queue, ``queued`` → ``cancelled``, refunded (``message:ID``, as a failed
    message is: never twice), announced; the messages that moved."""
    withdraw, target = (
        (_WITHDRAW_GROUP, group_id) if group_id is not None else (_WITHDRAW_MESSAGE, message_id)
    )
    withdrawn = [
        row["message_id"]
        for row in await withdraw.rows(conn, target, account_id, CANCELLED.source.value)
    ]
    if not withdrawn:
        return []
    moved = [
        _moved(row)
        for row in await _CANCEL.rows(
            conn, withdrawn, CANCELLED.target.value, now, CANCELLED.source.value
        )
    ]
    # One balance update per balance, one ledger entry per message: a group of 100,000 is
    # refunded in a few statements.
    refunds: dict[Balance, list[tuple[int, str]]] = {}
    for row in moved:
        if row.cost:
            refunds.setdefault(Balance(row.cost_balance), []).append(
                (row.cost, f"message:{row.id}")
            )
    payer_id = (await payers.payers(conn, [account_id]))[account_id].payer_id
    for balance, entries in sorted(refunds.items()):
        await ledger.post_many(conn, payer_id, balance, EntryKind.REFUND, entries, now)
    await outbox.announce(conn, moved, CANCELLED.target, None, now)
    return moved


async def named(
    conn: AsyncConnection,
    account_id: int,
    *,
    message_id: int | None = None,
    group_id: int | None = None,
) -> int | None:
    """How many messages the account's message id (1) or group id names; None when the
    account has no such message or group (another account's reads like an unknown one)."""
    statement, target = (
        (_NAMED_GROUP, group_id) if group_id is not None else (_NAMED_MESSAGE, message_id)
    )
    if target is None or not 0 < target <= MAX_ID:
        return None
    row = await statement.first(conn, target, account_id)
    return None if row is None else int(row["total"])


async def cancellable(
    conn: AsyncConnection,
    account_id: int,
    *,
    message_id: int | None = None,
    group_id: int | None = None,
) -> int:
    """How many of the account's message, or its group's messages, ``cancel`` would move now."""
    count, target = (
        (_CANCELLABLE_GROUP, group_id)
        if group_id is not None
        else (_CANCELLABLE_MESSAGE, message_id)
    )
    [row] = await count.rows(conn, target, account_id, CANCELLED.source.value)
    return int(row["count"])


class Walked(NamedTuple):
    """A message the walk to overdue messages read; the last one read is where it goes on."""

    expires_at: datetime
    id: int


class Expiring(NamedTuple):
    expires_at: datetime
    id: int
    status: str


_expiring = reader(Expiring)
_WALK_START = Walked(datetime(1970, 1, 1, tzinfo=UTC), 0)


async def walked(conn: AsyncConnection, walk: str) -> Walked:
    """Where ``walk`` stopped last (before the first message if it never went)."""
    row = await _WALKED.first(conn, walk)
    return _WALK_START if row is None else Walked(moment(row["expires_at"]), row["message_id"])


async def keep_walked(conn: AsyncConnection, walk: str, mark: Walked) -> None:
    await _KEEP_WALKED.run(conn, walk, mark.expires_at, mark.id)


async def expiring(
    conn: AsyncConnection, after: Walked, until: datetime, limit: int
) -> list[Expiring]:
    """Up to ``limit`` messages after ``after`` whose validity ended by ``until``, in the
    order it ended, whatever their state."""
    rows = await _EXPIRING.rows(conn, after.expires_at, after.id, until, limit)
    return [_expiring(row) for row in rows]


class OnTheirWay(NamedTuple):
    counts: dict[MessageStatus, int]
    # The earliest hour that may still hold messages on their way: the next read starts there.
    since_hour: str


def hour_of(moment: datetime) -> str:
    """The UTC hour as the counts key it ('YYYY-MM-DD HH')."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H")


async def on_their_way(conn: AsyncConnection, since_hour: str, settled: datetime) -> OnTheirWay:
    """How many messages are in each state short of a final one, among those created from
    ``since_hour`` on. A message leaves those states and never comes back, and no message is
    created in an hour before ``settled``'s (the hour before the last): an hour settled at
    none on their way stays so, and the next read can start after it."""
    counts = dict.fromkeys(ON_THEIR_WAY, 0)
    oldest = hour_of(settled)
    rows = await _ON_THEIR_WAY.rows(conn, *(state.value for state in ON_THEIR_WAY), since_hour)
    for row in rows:
        if count := int(row["count"]):
            counts[MessageStatus(row["status"])] += count
            oldest = min(oldest, row["hour"])
    return OnTheirWay(counts, oldest)
