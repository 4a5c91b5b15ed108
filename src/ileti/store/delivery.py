"""Receipts move parts, and parts move messages: ``sent`` to ``delivered``, ``failed`` or
``expired``, and nowhere else. A receipt for an unknown part waits (it may have overtaken the
record of its submit); one for a part already final is counted and dropped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.lifecycle import MessageStatus, combine_parts
from ileti.store.models import Message, MessagePart, PendingReceipt, utcnow
from ileti.store.queue import finish
from ileti.store.sql import among

parts = MessagePart.__table__
messages = Message.__table__
pending = PendingReceipt.__table__


@dataclass(frozen=True, slots=True)
class ReceiptUpdate:
    """A final receipt in storage terms."""

    carrier: str
    keys: tuple[str, ...]  # the id's normal form first, then its other readings
    status: MessageStatus  # delivered, failed or expired
    error: str | None
    received_ms: int


@dataclass
class Outcome:
    applied: int = 0
    duplicate: int = 0
    waiting: int = 0


async def apply_receipts(
    conn: AsyncConnection, receipts: Sequence[ReceiptUpdate], now: datetime, *, keep: bool = True
) -> tuple[Outcome, list[ReceiptUpdate]]:
    """Apply final receipts; returns what happened and the receipts that matched nothing.

    With ``keep``, unmatched receipts are stored to wait for their part.
    """
    outcome = Outcome()
    unmatched: list[ReceiptUpdate] = []
    touched: set[int] = set()
    found = await _find_parts(conn, receipts)
    updates: list[dict[str, object]] = []
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
        updates.append(
            {
                "mid": message_id,
                "pno": part,
                "status": receipt.status.value,
                "done_at": now,
                "error": receipt.error,
            }
        )
        touched.add(message_id)
        outcome.applied += 1
    if updates:
        await conn.execute(
            update(parts)
            .where(parts.c.message_id == bindparam("mid"), parts.c.part == bindparam("pno"))
            .values(
                status=bindparam("status"), done_at=bindparam("done_at"), error=bindparam("error")
            ),
            updates,
        )
    await settle(conn, touched, now)
    if keep and unmatched:
        await conn.execute(
            insert(pending),
            [
                {
                    "carrier": r.carrier,
                    "operator_id": r.keys[0],
                    "candidates": " ".join(r.keys),
                    "state": r.status.value,
                    "error": r.error,
                    "received_ms": r.received_ms,
                }
                for r in unmatched
            ],
        )
        outcome.waiting += len(unmatched)
    return outcome, unmatched


_Found = dict[tuple[str, str], list[tuple[int, int, str]]]


async def _find_parts(conn: AsyncConnection, receipts: Sequence[ReceiptUpdate]) -> _Found:
    """(carrier, operator id) → parts, for every key any of the receipts may mean."""
    keys = {key for r in receipts for key in r.keys}
    rows = await conn.execute(
        select(
            parts.c.carrier, parts.c.operator_id, parts.c.message_id, parts.c.part, parts.c.status
        ).where(
            parts.c.carrier.in_({r.carrier for r in receipts}),
            among(conn, parts.c.operator_id, keys),
        )
    )
    found: _Found = {}
    for carrier, operator_id, message_id, part, status in rows:
        found.setdefault((carrier, operator_id), []).append((message_id, part, status))
    return found


def _best(found: _Found, receipt: ReceiptUpdate) -> tuple[int, int, str] | None:
    """The id's own normal form beats another reading of it; then the newest part."""
    for key in receipt.keys:
        rows = found.get((receipt.carrier, key))
        if rows:
            return max(rows)
    return None


async def settle(conn: AsyncConnection, message_ids: set[int], now: datetime) -> None:
    """Give each message the state its parts add up to, once every part is final."""
    if not message_ids:
        return
    states: dict[int, list[tuple[MessageStatus, str | None]]] = {}
    for message_id, status, error in await conn.execute(
        select(parts.c.message_id, parts.c.status, parts.c.error).where(
            among(conn, parts.c.message_id, message_ids)
        )
    ):
        states.setdefault(message_id, []).append((MessageStatus(status), error))
    by_result: dict[tuple[MessageStatus, str | None], list[int]] = {}
    for message_id, part_states in states.items():
        result = combine_parts([s for s, _ in part_states])
        if result is None:
            continue
        reason = next((e for s, e in part_states if s is result and e), None)
        by_result.setdefault((result, reason), []).append(message_id)
    for (result, reason), ids in by_result.items():
        await finish(conn, ids, result, now, reason, from_status=[MessageStatus.SENT])


async def match_waiting(conn: AsyncConnection, carrier: str, operator_ids: Sequence[str]) -> int:
    """Apply receipts that arrived before these parts were recorded. Returns how many."""
    if not operator_ids:
        return 0
    rows = (
        await conn.execute(
            select(pending).where(
                pending.c.carrier == carrier, among(conn, pending.c.operator_id, operator_ids)
            )
        )
    ).all()
    return await _replay(conn, rows)


async def retry_waiting(conn: AsyncConnection, limit: int = 1000) -> int:
    """Try every waiting receipt again (their part may be recorded now). Returns matches."""
    rows = (await conn.execute(select(pending).order_by(pending.c.id).limit(limit))).all()
    return await _replay(conn, rows)


async def drop_waiting(conn: AsyncConnection, older_than_ms: int) -> int:
    """Forget receipts that waited longer than any message can live: they match nothing."""
    result = await conn.execute(delete(pending).where(pending.c.received_ms < older_than_ms))
    return result.rowcount or 0


async def _replay(conn: AsyncConnection, rows: Sequence[Any]) -> int:
    if not rows:
        return 0
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
    outcome, unmatched = await apply_receipts(conn, receipts, utcnow(), keep=False)
    still = {(r.carrier, r.keys) for r in unmatched}
    done = [
        row.id for row, r in zip(rows, receipts, strict=True) if (r.carrier, r.keys) not in still
    ]
    if done:
        await conn.execute(delete(pending).where(pending.c.id.in_(done)))
    return outcome.applied + outcome.duplicate
