"""No index of ``messages`` holds a message's state, so its moves are updated in place on
PostgreSQL; what used to read the state through an index reads something else: the gauges the
counts kept per hour, the dashboard's scheduled messages the queue."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from ileti.domain.lifecycle import DELIVERED, MessageStatus
from ileti.domain.priority import BULK
from ileti.store import accounts, lifecycle, sends
from ileti.store import queue as q
from ileti.store.db import Database
from ileti.store.lifecycle import SubmittedPart, hour_of
from support.clock import ManualClock
from support.messages import FIRST_NUMBER, accept, new_message, submission

QUEUED, SENT = MessageStatus.QUEUED, MessageStatus.SENT


async def _account(db: Database, now: datetime) -> int:
    async with db.write() as conn:
        account = await accounts.create_account(conn, "acme", now, credits=100)
        await accounts.add_title(conn, account.id, "ACME", now, active=True)
    return account.id


async def _queue(
    db: Database, account_id: int, count: int, now: datetime, due_in: timedelta = timedelta(0)
) -> list[int]:
    stored = await accept(
        db,
        submission(
            account_id,
            [new_message(str(FIRST_NUMBER + i)) for i in range(count)],
            now,
            kind="group",
            priority=BULK,
            due_at=now + due_in,
            validity=timedelta(hours=1),
        ),
    )
    return stored.message_ids


def _submitted(ids: list[int]) -> list[tuple[int, str, list[SubmittedPart]]]:
    return [(i, "smsc", [SubmittedPart(1, f"op{i}")]) for i in ids]


async def _send(db: Database, ids: list[int], now: datetime) -> None:
    async with db.write() as conn:
        await lifecycle.mark_sent(conn, _submitted(ids), now)


async def test_a_message_moves_in_place_on_postgresql(db: Database) -> None:
    """Its moves add no index entry (HOT updates): the write-ahead log and the indexes grow
    with the messages accepted, not with their moves."""
    if not db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite updates a row in place anyway")
    now = ManualClock().now()
    account_id = await _account(db, now)
    ids = await _queue(db, account_id, 3, now)
    async with db.write() as conn:
        await lifecycle.mark_sent(conn, _submitted(ids), now)
        await lifecycle.finish(conn, ids, DELIVERED, now, None)
        [row] = await conn.execute(
            text(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables"
                " WHERE relid = 'messages'::regclass"
            )
        )
    assert tuple(row) == (6, 6)


async def test_the_gauges_read_from_the_earliest_hour_still_on_its_way(db: Database) -> None:
    """The counts kept per hour give the messages on their way; an hour whose messages have
    all ended is read no more, unless it is the last hour or the one before."""
    start = ManualClock().now()
    later = start + timedelta(hours=5)
    account_id = await _account(db, start)
    early = await _queue(db, account_id, 2, start)
    await _queue(db, account_id, 3, later)
    await _send(db, early, start)
    async with db.write() as conn:
        await lifecycle.finish(conn, early[1:], DELIVERED, start, None)
    settled = later - timedelta(hours=1)

    async with db.read() as conn:
        counted = await lifecycle.on_their_way(conn, "", settled)
    assert counted.counts == {QUEUED: 3, SENT: 1}
    # The sent one keeps its hour read.
    assert counted.since_hour == hour_of(start)

    async with db.write() as conn:
        await lifecycle.finish(conn, early[:1], DELIVERED, start, None)
    async with db.read() as conn:
        counted = await lifecycle.on_their_way(conn, counted.since_hour, settled)
        assert counted.counts == {QUEUED: 3, SENT: 0}
        # Nothing on its way before the last hours: the next read starts at the one settled.
        assert counted.since_hour == hour_of(settled)
        assert (await lifecycle.on_their_way(conn, counted.since_hour, settled)).counts == {
            QUEUED: 3,
            SENT: 0,
        }


async def test_scheduled_are_the_messages_due_later_not_those_waiting_for_a_retry(
    db: Database,
) -> None:
    now = ManualClock().now()
    account_id = await _account(db, now)
    await _queue(db, account_id, 2, now, due_in=timedelta(hours=2))
    retried = await _queue(db, account_id, 1, now)
    now_ms = int(now.timestamp() * 1000)
    async with db.write() as conn:
        [claimed] = await q.claim(conn, "worker", 10, now_ms, 30_000)
        assert claimed.id == retried[0]
        await q.retry_later(conn, {claimed.id: 600_000}, now_ms, "worker")
    async with db.read() as conn:
        waiting = await sends.waiting(conn, account_id, now)
    assert (waiting.scheduled, waiting.queued, waiting.sent) == (2, 1, 0)
    async with db.read() as conn:
        waiting = await sends.waiting(conn, account_id, now + timedelta(hours=3))
    assert (waiting.scheduled, waiting.queued) == (0, 3)
