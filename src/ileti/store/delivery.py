"""Receipts move parts, and parts move messages: ``sent`` to ``delivered``, ``failed`` or
``expired``, and nowhere else. A receipt for an unknown part waits (it may have overtaken the
record of its submit); one for a part already final is counted and dropped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.encoding import MAX_CONCATENATED
from ileti.domain.lifecycle import MessageStatus, by_receipt, combine_parts
from ileti.store.lifecycle import finish
from ileti.store.models import PendingReceipt, table_of
from ileti.store.sql import Insert, Raw, reader


@dataclass(frozen=True, slots=True)
class ReceiptUpdate:
    """A final receipt in storage terms."""

    carrier: str
    keys: tuple[str, ...]  # the id's normal form first, then its other readings
    status: MessageStatus  # delivered, failed or expired
    error: str | None
    received_ms: int


# A receipt batch's parts that end in one state with one error (nearly always all of them:
# delivered). The parts' messages are a list, so that PostgreSQL reads those rows by key
# whatever its statistics say; joined with the batch as a table (``unnest``), a batch large
# beside a young table was read as a walk of the whole table (19,000 rows for 447 parts), and
# with stale statistics a join reads the batch again for every row. A part is named by
# ``message_id * 256 + part``: a message has at most 255 parts (``MAX_CONCATENATED``).
_PARTS_PER_MESSAGE = MAX_CONCATENATED + 1
_FINISH_PARTS = Raw(
    "UPDATE message_parts SET status = $3, done_at = $4, error = $5"
    f" WHERE message_id = ANY($1) AND message_id * {_PARTS_PER_MESSAGE} + part = ANY($2)"
)
_PARTS_BY_OPERATOR_ID = Raw(
    "SELECT carrier, operator_id, message_id, part, status FROM message_parts"
    " WHERE carrier = ANY($1) AND operator_id = ANY($2)"
)
_PART_STATES = Raw("SELECT message_id, status, error FROM message_parts WHERE message_id = ANY($1)")
_WAITING_COLUMNS = "SELECT id, carrier, candidates, state, error, received_ms FROM pending_receipts"
_WAITING_FOR = Raw(_WAITING_COLUMNS + " WHERE carrier = $1 AND operator_id = ANY($2)")
_WAITING = Raw(_WAITING_COLUMNS + " ORDER BY id LIMIT $1")
_FORGET = Raw("DELETE FROM pending_receipts WHERE id = ANY($1)")
_DROP_OLD = Raw("DELETE FROM pending_receipts WHERE received_ms < $1")
_WAIT = Insert(
    table_of(PendingReceipt),
    ("carrier", "operator_id", "candidates", "state", "error", "received_ms"),
)


class Waiting(NamedTuple):
    """A receipt stored to wait for its part."""

    id: int
    carrier: str
    candidates: str
    state: str
    error: str | None
    received_ms: int


_waiting = reader(Waiting)


@dataclass
class ReceiptTally:
    """What a batch of receipts did."""

    applied: int = 0
    duplicate: int = 0
    waiting: int = 0
    # Messages the receipts made final, by state.
    finished: Counter[MessageStatus] = field(default_factory=Counter)


async def apply_receipts(
    conn: AsyncConnection, receipts: Sequence[ReceiptUpdate], now: datetime, *, keep: bool = True
) -> tuple[ReceiptTally, list[ReceiptUpdate]]:
    """Apply final receipts; returns what happened and the receipts that matched nothing.

    With ``keep``, unmatched receipts are stored to wait for their part.
    """
    outcome = ReceiptTally()
    unmatched: list[ReceiptUpdate] = []
    touched: set[int] = set()
    found = await _find_parts(conn, receipts)
    ending: dict[tuple[str, str | None], list[tuple[int, int]]] = {}
    claimed: set[tuple[int, int]] = set()
    for receipt in receipts:
        row = _best(found, receipt)
        if row is None:
            unmatched.append(receipt)
            continue
        message_id, part, status = row
        if status != MessageStatus.SENT.value or (message_id, part) in claimed:
            outcome.duplicate += 1
            continue
        claimed.add((message_id, part))
        ending.setdefault((receipt.status.value, receipt.error), []).append((message_id, part))
        touched.add(message_id)
        outcome.applied += 1
    for (status, error), parts in ending.items():
        await _FINISH_PARTS.run(
            conn,
            list({message_id for message_id, _ in parts}),
            [message_id * _PARTS_PER_MESSAGE + part for message_id, part in parts],
            status,
            now,
            error,
        )
    outcome.finished = await settle(conn, touched, now)
    if keep and unmatched:
        await _WAIT.run_rows(
            conn,
            [
                (r.carrier, r.keys[0], " ".join(r.keys), r.status.value, r.error, r.received_ms)
                for r in unmatched
            ],
        )
        outcome.waiting += len(unmatched)
    return outcome, unmatched


_Found = dict[tuple[str, str], list[tuple[int, int, str]]]


async def _find_parts(conn: AsyncConnection, receipts: Sequence[ReceiptUpdate]) -> _Found:
    """(carrier, operator id) → parts, for every key any of the receipts may mean."""
    keys = {key for r in receipts for key in r.keys}
    carriers = {r.carrier for r in receipts}
    found: _Found = {}
    for row in await _PARTS_BY_OPERATOR_ID.rows(conn, list(carriers), list(keys)):
        found.setdefault((row["carrier"], row["operator_id"]), []).append(
            (row["message_id"], row["part"], row["status"])
        )
    return found


def _best(found: _Found, receipt: ReceiptUpdate) -> tuple[int, int, str] | None:
    """The id's own normal form beats another reading of it; then the newest part."""
    for key in receipt.keys:
        rows = found.get((receipt.carrier, key))
        if rows:
            return max(rows)
    return None


async def settle(
    conn: AsyncConnection, message_ids: set[int], now: datetime
) -> Counter[MessageStatus]:
    """Give each message the state its parts add up to, once every part is final; how many
    moved to each state."""
    moved: Counter[MessageStatus] = Counter()
    if not message_ids:
        return moved
    states: dict[int, list[tuple[MessageStatus, str | None]]] = {}
    for row in await _PART_STATES.rows(conn, list(message_ids)):
        states.setdefault(row["message_id"], []).append(
            (MessageStatus(row["status"]), row["error"])
        )
    by_result: dict[tuple[MessageStatus, str | None], list[int]] = {}
    for message_id, part_states in states.items():
        result = combine_parts([s for s, _ in part_states])
        if result is None:
            continue
        reason = next((e for s, e in part_states if s is result and e), None)
        by_result.setdefault((result, reason), []).append(message_id)
    for (result, reason), ids in by_result.items():
        done = await finish(conn, ids, by_receipt(result), now, reason)
        moved[result] += len(done)
    return moved


async def match_waiting(
    conn: AsyncConnection, carrier: str, operator_ids: Sequence[str], now: datetime
) -> ReceiptTally:
    """Apply receipts that arrived before these parts were recorded."""
    if not operator_ids:
        return ReceiptTally()
    rows = await _WAITING_FOR.rows(conn, carrier, list(operator_ids))
    return await _replay(conn, [_waiting(row) for row in rows], now)


async def retry_waiting(conn: AsyncConnection, now: datetime, limit: int = 1000) -> ReceiptTally:
    """Try every waiting receipt again (their part may be recorded now)."""
    rows = await _WAITING.rows(conn, limit)
    return await _replay(conn, [_waiting(row) for row in rows], now)


async def drop_waiting(conn: AsyncConnection, older_than_ms: int) -> int:
    """Forget receipts that waited longer than any message can live: they match nothing."""
    return await _DROP_OLD.run(conn, older_than_ms)


async def _replay(conn: AsyncConnection, rows: Sequence[Waiting], now: datetime) -> ReceiptTally:
    """What the waiting receipts did; those that matched a part (applied or duplicate) are
    forgotten."""
    if not rows:
        return ReceiptTally()
    receipts = [
        ReceiptUpdate(
            row.carrier,
            tuple(row.candidates.split()),
            MessageStatus(row.state),
            row.error,
            row.received_ms,
        )
        for row in rows
    ]
    outcome, unmatched = await apply_receipts(conn, receipts, now, keep=False)
    still = {(r.carrier, r.keys) for r in unmatched}
    done = [
        row.id for row, r in zip(rows, receipts, strict=True) if (r.carrier, r.keys) not in still
    ]
    if done:
        await _FORGET.run(conn, done)
    return outcome
