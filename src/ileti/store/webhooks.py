"""The webhook outbox's queries: settings per key, events written with the state change that
causes them, claims under a lease, attempts, failures and replays.

A claim leases events the way the dispatch queue does: a sender that dies leaves its events to
be claimed again once the lease runs out, so an event is delivered at least once, under the
same id every time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

import orjson
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.lifecycle import MessageStatus
from ileti.store.models import ApiKey, WebhookAttempt, WebhookEvent
from ileti.store.sql import Raw, among
from ileti.webhooks.events import (
    EventType,
    NewEvent,
    WebhookConfig,
    event_for,
    make_event,
    message_data,
)

events = WebhookEvent.__table__
attempts = WebhookAttempt.__table__
api_keys = ApiKey.__table__


class EventStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


_CONFIGS = Raw("SELECT id, webhook FROM api_keys WHERE id = ANY($1) AND webhook IS NOT NULL")
# Read by primary key alone: a join or a filter on their state lets the planner pick a walk
# over every queued message instead.
_MESSAGES = Raw(
    "SELECT id, key_id, sentto, segments, group_id, status FROM messages WHERE id = ANY($1)"
)
# Due and not leased, leaving out the keys in $2 (busy ones; an empty list leaves out none).
_DUE = (
    "FROM webhook_events WHERE status = 'pending' AND due_ms <= $1 AND lease_until_ms < $1"
    " AND NOT key_id = ANY($2)"
)
_ANY_DUE = Raw("SELECT 1 " + _DUE + " LIMIT 1")
_LEASE = (
    "UPDATE webhook_events SET lease_until_ms = $3, lease_owner = $4"
    " WHERE id IN (SELECT id " + _DUE + " ORDER BY due_ms LIMIT $5 {lock})"
    " RETURNING id, key_id, event_type, body, attempts"
)
_CLAIM = Raw(_LEASE.format(lock="FOR UPDATE SKIP LOCKED"), sqlite=_LEASE.format(lock=""))


class _Moving(NamedTuple):
    id: int
    key_id: int
    sentto: str
    segments: int
    group_id: int | None


# Settings.


async def get_config(conn: AsyncConnection, key_id: int) -> WebhookConfig | None:
    row = (await conn.execute(select(api_keys.c.webhook).where(api_keys.c.id == key_id))).first()
    return WebhookConfig.from_json(row[0]) if row else None


async def save_config(conn: AsyncConnection, key_id: int, config: WebhookConfig) -> None:
    await conn.execute(
        update(api_keys).where(api_keys.c.id == key_id).values(webhook=config.to_json())
    )


async def configs(conn: AsyncConnection, key_ids: Iterable[int]) -> dict[int, WebhookConfig]:
    """The settings of those keys that have a webhook."""
    wanted = sorted(set(key_ids))
    if not wanted:
        return {}
    found = {
        key_id: WebhookConfig.from_json(orjson.loads(data) if isinstance(data, str) else data)
        for key_id, data in await _CONFIGS.rows(conn, wanted)
    }
    return {key_id: config for key_id, config in found.items() if config is not None}


# Writing events.


async def add(conn: AsyncConnection, new_events: Sequence[NewEvent]) -> None:
    if not new_events:
        return
    await conn.execute(
        insert(events),
        [
            {
                "id": e.id,
                "key_id": e.key_id,
                "event_type": e.event_type.value,
                "body": e.body,
                "status": EventStatus.PENDING.value,
                "attempts": 0,
                "created_ms": e.created_ms,
                "due_ms": e.created_ms,
                "lease_until_ms": 0,
            }
            for e in new_events
        ],
    )


async def announce_sent(conn: AsyncConnection, message_ids: Sequence[int], now: datetime) -> None:
    """``sms.sent`` for those of these queued messages whose key wants it.

    Called before they move, in the same transaction, so only messages that do move count.
    """
    if not message_ids:
        return
    moving = [
        _Moving(*row[:5])
        for row in await _MESSAGES.rows(conn, list(message_ids))
        if row[5] == MessageStatus.QUEUED.value
    ]
    settings = await configs(conn, {row.key_id for row in moving})
    if settings:
        await announce(conn, moving, settings, MessageStatus.SENT, None, now)


async def announce_final(
    conn: AsyncConnection,
    rows: Sequence[Any],
    status: MessageStatus,
    reason: str | None,
    now: datetime,
) -> None:
    """The event for messages that just reached a final state; rows carry ``id``, ``key_id``,
    ``sentto``, ``segments`` and ``group_id``."""
    if rows:
        settings = await configs(conn, {r.key_id for r in rows})
        await announce(conn, rows, settings, status, reason, now)


async def announce(
    conn: AsyncConnection,
    rows: Sequence[Any],
    settings: Mapping[int, WebhookConfig | None],
    status: MessageStatus,
    reason: str | None,
    now: datetime,
) -> None:
    event_type = event_for(status)
    wanting = {k for k, c in settings.items() if c is not None and c.wants(event_type)}
    await add(
        conn,
        [
            make_event(
                row.key_id,
                event_type,
                message_data(row.id, status, row.sentto, row.segments, reason, row.group_id),
                now,
            )
            for row in rows
            if row.key_id in wanting
        ],
    )


# Delivering events.


@dataclass(frozen=True, slots=True)
class ClaimedEvent:
    id: str
    key_id: int
    event_type: str
    body: str
    # Attempts made before this one.
    attempts: int


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt gave. ``next_due_ms`` None after a failure: no attempts left."""

    event_id: str
    attempt: int
    at_ms: int
    status_code: int | None
    latency_ms: int
    error: str | None
    delivered: bool
    next_due_ms: int | None


async def any_due(conn: AsyncConnection, now_ms: int, skip_keys: Collection[int] = ()) -> bool:
    """Whether a claim would find an event: a read, so an idle sender takes no write lock."""
    return bool(await _ANY_DUE.rows(conn, now_ms, list(skip_keys)))


async def claim(
    conn: AsyncConnection,
    owner: str,
    limit: int,
    now_ms: int,
    lease_ms: int,
    skip_keys: Collection[int] = (),
) -> list[ClaimedEvent]:
    """Lease up to ``limit`` due events, oldest first, leaving out keys that are busy."""
    rows = await _CLAIM.rows(conn, now_ms, list(skip_keys), now_ms + lease_ms, owner, limit)
    return [ClaimedEvent(*row) for row in rows]


async def record(conn: AsyncConnection, results: Sequence[Attempt]) -> None:
    """Every attempt, and each event's new state: delivered, due again, or dead."""
    if not results:
        return
    await conn.execute(
        insert(attempts),
        [
            {
                "event_id": r.event_id,
                "attempt": r.attempt,
                "at_ms": r.at_ms,
                "status_code": r.status_code,
                "latency_ms": r.latency_ms,
                "error": r.error,
            }
            for r in results
        ],
    )
    await conn.execute(
        update(events)
        .where(events.c.id == bindparam("eid"), events.c.status == EventStatus.PENDING.value)
        .values(
            status=bindparam("new_status"),
            attempts=bindparam("attempt"),
            due_ms=bindparam("due"),
            done_ms=bindparam("done"),
            lease_until_ms=0,
            lease_owner=None,
            last_status_code=bindparam("code"),
            last_error=bindparam("err"),
        ),
        [_event_update(r) for r in results],
    )


def _event_update(r: Attempt) -> dict[str, Any]:
    if r.delivered:
        status, due, done = EventStatus.DELIVERED, r.at_ms, r.at_ms
    elif r.next_due_ms is None:
        status, due, done = EventStatus.DEAD, r.at_ms, r.at_ms
    else:
        status, due, done = EventStatus.PENDING, r.next_due_ms, None
    return {
        "eid": r.event_id,
        "new_status": status.value,
        "attempt": r.attempt,
        "due": due,
        "done": done,
        "code": r.status_code,
        "err": r.error,
    }


async def release(conn: AsyncConnection, event_ids: Sequence[str]) -> None:
    """Give back claimed events that were not attempted (a sender shutting down)."""
    if event_ids:
        await conn.execute(
            update(events)
            .where(
                among(conn, events.c.id, event_ids), events.c.status == EventStatus.PENDING.value
            )
            .values(lease_until_ms=0, lease_owner=None)
        )


# The operator's view.


@dataclass(frozen=True, slots=True)
class EventView:
    id: str
    key_id: int
    event_type: str
    status: str
    attempts: int
    created_ms: int
    done_ms: int | None
    last_status_code: int | None
    last_error: str | None


_VIEW = select(
    events.c.id,
    events.c.key_id,
    events.c.event_type,
    events.c.status,
    events.c.attempts,
    events.c.created_ms,
    events.c.done_ms,
    events.c.last_status_code,
    events.c.last_error,
)


async def failures(
    conn: AsyncConnection, key_id: int | None = None, limit: int = 100
) -> list[EventView]:
    """Dead events (every attempt used), newest first."""
    query = _VIEW.where(events.c.status == EventStatus.DEAD.value)
    if key_id is not None:
        query = query.where(events.c.key_id == key_id)
    rows = await conn.execute(query.order_by(events.c.created_ms.desc()).limit(limit))
    return [EventView(*row) for row in rows]


async def counts(conn: AsyncConnection, key_id: int) -> dict[str, int]:
    rows = await conn.execute(
        select(events.c.status, func.count())
        .where(events.c.key_id == key_id)
        .group_by(events.c.status)
    )
    return dict(rows.all())  # type: ignore[arg-type]


async def replay(
    conn: AsyncConnection,
    now_ms: int,
    *,
    key_id: int | None = None,
    event_ids: Sequence[str] = (),
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> int:
    """Send events again with a fresh set of attempts; returns how many.

    Dead events by key or creation time; an event named by its id also when it was delivered
    (the receiver may have lost it). Pending events are left to their schedule.
    """
    if key_id is None and not event_ids and since_ms is None and until_ms is None:
        raise ValueError("name a key, event ids or a time range to replay")
    query = update(events).where(events.c.status != EventStatus.PENDING.value)
    if event_ids:
        query = query.where(events.c.id.in_(list(event_ids)))
    else:
        query = query.where(events.c.status == EventStatus.DEAD.value)
    if key_id is not None:
        query = query.where(events.c.key_id == key_id)
    if since_ms is not None:
        query = query.where(events.c.created_ms >= since_ms)
    if until_ms is not None:
        query = query.where(events.c.created_ms < until_ms)
    result = await conn.execute(
        query.values(
            status=EventStatus.PENDING.value,
            attempts=0,
            due_ms=now_ms,
            lease_until_ms=0,
            lease_owner=None,
            done_ms=None,
        )
    )
    return result.rowcount or 0


async def attempts_of(conn: AsyncConnection, event_id: str) -> list[Any]:
    rows = await conn.execute(
        select(attempts).where(attempts.c.event_id == event_id).order_by(attempts.c.id)
    )
    return list(rows)


async def emit(
    conn: AsyncConnection,
    key_id: int,
    event_type: EventType,
    data: dict[str, Any],
    now: datetime,
) -> NewEvent | None:
    """One event in the outbox, if the key has a webhook that wants it."""
    config = await get_config(conn, key_id)
    if config is None or not config.wants(event_type):
        return None
    event = make_event(key_id, event_type, data, now)
    await add(conn, [event])
    return event


async def extend_lease(
    conn: AsyncConnection, owner: str, event_ids: Sequence[str], until_ms: int
) -> None:
    """Keep claimed events leased while they wait for their receiver or travel to it."""
    if event_ids:
        await conn.execute(
            update(events)
            .where(
                among(conn, events.c.id, event_ids),
                events.c.lease_owner == owner,
                events.c.status == EventStatus.PENDING.value,
            )
            .values(lease_until_ms=until_ms)
        )
