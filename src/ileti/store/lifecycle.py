"""A message's moves in storage: to ``sent``, and to its final state with what comes with it.

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
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.lifecycle import ON_THEIR_WAY, SUBMITTED, MessageStatus, Move
from ileti.domain.pricing import Balance
from ileti.store import ledger, queue
from ileti.store import webhooks as outbox
from ileti.store.ledger import EntryKind
from ileti.store.models import MessagePart, table_of
from ileti.store.sql import Batch, Insert, Raw, reader


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


_moved = reader(Moved)
_MOVED = "id, account_id, key_id, cost, cost_balance, sentto, segments, group_id"
_LEAVING = Raw(f"SELECT {_MOVED}, status FROM messages WHERE id = ANY($1)")
_RECORD_PARTS = Insert(
    table_of(MessagePart),
    ("message_id", "part", "carrier", "operator_id", "status", "done_at", "error"),
)
# The rows' columns are (id, carrier); then the time, the move's target and its source.
_MARK_SENT = Batch(
    "UPDATE messages AS m SET status = $4, sent_at = $3, carrier = w.carrier"
    " FROM unnest($1::bigint[], $2::text[]) AS w(id, carrier)"
    " WHERE m.id = w.id AND m.status = $5",
    sqlite="UPDATE messages SET status = $4, sent_at = $3, carrier = $2"
    " WHERE id = $1 AND status = $5",
)
_FINISH = Raw(
    "UPDATE messages SET status = $2, done_at = $3, error_reason = $4"
    f" WHERE id = ANY($1) AND status = $5 RETURNING {_MOVED}"
)
_OVERDUE = Raw("SELECT id FROM messages WHERE status = $1 AND expires_at <= $2 LIMIT $3")
# By the status index: in time proportional to what is in flight, not to every message sent.
_ON_THEIR_WAY = Raw(
    "SELECT status, count(*) AS count FROM messages WHERE status IN ($1, $2) GROUP BY status"
)


async def mark_sent(
    conn: AsyncConnection,
    sent: Sequence[tuple[int, str, list[SubmittedPart]]],
    now: datetime,
) -> None:
    """Messages a carrier took: (id, carrier, parts with the operator's ids). Their parts are
    recorded, they move to ``sent``, and they leave the queue."""
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
    await _RECORD_PARTS.run_rows(
        conn,
        [
            (message_id, p.part, carrier, p.operator_id, sent_value, None, None)
            if p.operator_id
            else (message_id, p.part, carrier, "", failed_value, now, "refused by the operator")
            for message_id, carrier, message_parts in sent
            for p in message_parts
        ],
    )
    await _MARK_SENT.run_rows(
        conn,
        [(message_id, carrier) for message_id, carrier, _ in sent],
        now,
        SUBMITTED.target.value,
        SUBMITTED.source.value,
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
        for row in rows:
            if row.cost:
                await ledger.post(
                    conn,
                    row.account_id,
                    Balance(row.cost_balance),
                    row.cost,
                    EntryKind.REFUND,
                    f"message:{row.id}",
                    now,
                )
    await outbox.announce(conn, rows, move.target, reason, now)
    return [row.id for row in rows]


async def overdue(conn: AsyncConnection, move: Move, now: datetime, limit: int) -> list[int]:
    """Up to ``limit`` messages in ``move``'s source state whose validity has ended."""
    rows = await _OVERDUE.rows(conn, move.source.value, now, limit)
    return [row["id"] for row in rows]


async def on_their_way(conn: AsyncConnection) -> dict[MessageStatus, int]:
    """How many messages are in each state short of a final one."""
    counts = dict.fromkeys(ON_THEIR_WAY, 0)
    for row in await _ON_THEIR_WAY.rows(conn, *(state.value for state in ON_THEIR_WAY)):
        counts[MessageStatus(row["status"])] = int(row["count"])
    return counts
