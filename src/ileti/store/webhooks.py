"""The webhook outbox: settings per key, events written with the state change that causes
them, claims under a lease, attempts, failures and replays.

A claim leases events the way the dispatch queue does (``store.leases``): a sender that dies
leaves its events to be claimed again once the lease runs out, so an event is delivered at
least once, under the same id every time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.lifecycle import MessageStatus
from ileti.domain.webhooks import (
    EventType,
    NewEvent,
    WebhookConfig,
    event_for,
    make_event,
    message_data,
)
from ileti.store.leases import LeaseQueue
from ileti.store.models import WebhookAttempt, WebhookEvent, table_of
from ileti.store.sql import Batch, Composed, Insert, Raw, json_text, json_value, reader


class EventStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class MessageEvent(Protocol):
    """What an event about a message says of it."""

    @property
    def id(self) -> int: ...
    @property
    def key_id(self) -> int: ...
    @property
    def sentto(self) -> str: ...
    @property
    def segments(self) -> int: ...
    @property
    def group_id(self) -> int | None: ...
    @property
    def hooked(self) -> bool:
        """Whether its key has a webhook (read in the statement that moved it)."""
        ...


OUTBOX = LeaseQueue(
    table_of(WebhookEvent),
    "id",
    # Pending, leaving out the keys in {0} (busy ones; an empty list leaves out none).
    waiting="status = 'pending' AND NOT key_id = ANY({0})",
    order="due_ms",
    returning="id, key_id, event_type, body, attempts, due_ms",
)
_CONFIG = Raw("SELECT webhook FROM api_keys WHERE id = $1")
_SAVE_CONFIG = Raw("UPDATE api_keys SET webhook = $2 WHERE id = $1")
_CONFIGS = Raw("SELECT id, webhook FROM api_keys WHERE id = ANY($1) AND webhook IS NOT NULL")
_ADD = Insert(
    table_of(WebhookEvent),
    (
        "id",
        "key_id",
        "event_type",
        "body",
        "status",
        "attempts",
        "created_ms",
        "due_ms",
        "lease_until_ms",
    ),
)
_ATTEMPTED = Insert(
    table_of(WebhookAttempt),
    ("event_id", "attempt", "at_ms", "status_code", "latency_ms", "error"),
)
# Each event's new state: delivered, due again, or dead. By id, the state checked on the row
# found (``|| ''``: not through the status index, whose size the statistics lag).
_OUTCOMES = Batch(
    "UPDATE webhook_events AS e SET status = w.status, attempts = w.attempts, due_ms = w.due_ms,"
    " done_ms = w.done_ms, lease_until_ms = 0, lease_owner = NULL,"
    " last_status_code = w.code, last_error = w.error"
    " FROM unnest($1::varchar[], $2::varchar[], $3::int[], $4::bigint[], $5::bigint[],"
    " $6::int[], $7::varchar[]) AS w(id, status, attempts, due_ms, done_ms, code, error)"
    " WHERE e.id = w.id AND e.status || '' = 'pending'",
    sqlite="UPDATE webhook_events SET status = $2, attempts = $3, due_ms = $4, done_ms = $5,"
    " lease_until_ms = 0, lease_owner = NULL, last_status_code = $6, last_error = $7"
    " WHERE id = $1 AND status = 'pending'",
)
_VIEW = (
    "SELECT id, key_id, event_type, status, attempts, created_ms, done_ms, last_status_code,"
    " last_error FROM webhook_events"
)
_FAILURES = Composed(
    _VIEW + " WHERE status = $1",
    {"key": "key_id = {}"},
    "ORDER BY created_ms DESC LIMIT {0}",
    fixed=1,
)
_RECENT = Raw(_VIEW + " WHERE key_id = $1 ORDER BY created_ms DESC LIMIT $2")
_KEY_OF_EVENT = Raw("SELECT key_id FROM webhook_events WHERE id = $1")
_ATTEMPTS_OF = Raw(
    "SELECT event_id, attempt, at_ms, status_code, latency_ms, error FROM webhook_attempts"
    " WHERE event_id = ANY($1) ORDER BY event_id, attempt"
)
_COUNTS = Raw(
    "SELECT status, count(*) AS count FROM webhook_events WHERE key_id = $1 GROUP BY status"
)
_AGAIN = (
    "UPDATE webhook_events SET status = 'pending', attempts = 0, due_ms = $1,"
    " lease_until_ms = 0, lease_owner = NULL, done_ms = NULL"
)
_REPLAY_CHOSEN = Composed(
    _AGAIN + " WHERE status <> 'pending' AND id = ANY($2)",
    {"key": "key_id = {}", "since": "created_ms >= {}", "until": "created_ms < {}"},
    fixed=2,
)
_REPLAY_DEAD = Composed(
    _AGAIN + " WHERE status = 'dead'",
    {"key": "key_id = {}", "since": "created_ms >= {}", "until": "created_ms < {}"},
    fixed=1,
)


# Settings.


async def get_config(conn: AsyncConnection, key_id: int) -> WebhookConfig | None:
    row = await _CONFIG.first(conn, key_id)
    return WebhookConfig.from_json(json_value(row["webhook"])) if row else None


async def save_config(conn: AsyncConnection, key_id: int, config: WebhookConfig) -> None:
    await _SAVE_CONFIG.run(conn, key_id, json_text(config.to_json()))


async def configs(conn: AsyncConnection, key_ids: Iterable[int]) -> dict[int, WebhookConfig]:
    """The settings of those keys that have a webhook."""
    wanted = sorted(set(key_ids))
    if not wanted:
        return {}
    found = {
        row["id"]: WebhookConfig.from_json(json_value(row["webhook"]))
        for row in await _CONFIGS.rows(conn, wanted)
    }
    return {key_id: config for key_id, config in found.items() if config is not None}


# Writing events.


async def add(conn: AsyncConnection, new_events: Sequence[NewEvent]) -> None:
    await _ADD.run_rows(
        conn,
        [
            (
                e.id,
                e.key_id,
                e.event_type.value,
                e.body,
                EventStatus.PENDING.value,
                0,
                e.created_ms,
                e.created_ms,
                0,
            )
            for e in new_events
        ],
    )


async def announce(
    conn: AsyncConnection,
    messages: Sequence[MessageEvent],
    status: MessageStatus,
    reason: str | None,
    now: datetime,
) -> None:
    """The event that says messages reached ``status``, for each whose key wants it."""
    hooked = {m.key_id for m in messages if m.hooked}
    if not hooked:
        return
    event_type = event_for(status)
    settings = await configs(conn, hooked)
    wanting = {k for k, c in settings.items() if c.wants(event_type)}
    await add(
        conn,
        [
            make_event(
                m.key_id,
                event_type,
                message_data(m.id, status, m.sentto, m.segments, reason, m.group_id),
                now,
            )
            for m in messages
            if m.key_id in wanting
        ],
    )


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


# Delivering events.


@dataclass(frozen=True, slots=True)
class ClaimedEvent:
    id: str
    key_id: int
    event_type: str
    body: str
    # Attempts made before this one.
    attempts: int
    # RETURNING keeps no order: the sender sends the longest due first.
    due_ms: int


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


_claimed = reader(ClaimedEvent)


async def any_due(conn: AsyncConnection, now_ms: int, skip_keys: Collection[int] = ()) -> bool:
    """Whether a claim would find an event: a read, so an idle sender takes no write lock."""
    return await OUTBOX.any_due(conn, now_ms, list(skip_keys))


async def claim(
    conn: AsyncConnection,
    owner: str,
    limit: int,
    now_ms: int,
    lease_ms: int,
    skip_keys: Collection[int] = (),
) -> list[ClaimedEvent]:
    """Lease up to ``limit`` due events, oldest first, leaving out keys that are busy."""
    rows = await OUTBOX.claim(conn, owner, limit, now_ms, lease_ms, list(skip_keys))
    return [_claimed(row) for row in rows]


async def record(conn: AsyncConnection, results: Sequence[Attempt]) -> None:
    """Every attempt, and each event's new state: delivered, due again, or dead."""
    if not results:
        return
    await _ATTEMPTED.run_rows(
        conn,
        [(r.event_id, r.attempt, r.at_ms, r.status_code, r.latency_ms, r.error) for r in results],
    )
    await _OUTCOMES.run_rows(conn, [_outcome(r) for r in results])


def _outcome(r: Attempt) -> tuple[str, str, int, int, int | None, int | None, str | None]:
    if r.delivered:
        status, due, done = EventStatus.DELIVERED, r.at_ms, r.at_ms
    elif r.next_due_ms is None:
        status, due, done = EventStatus.DEAD, r.at_ms, r.at_ms
    else:
        status, due, done = EventStatus.PENDING, r.next_due_ms, None
    return (r.event_id, status.value, r.attempt, due, done, r.status_code, r.error)


async def release(conn: AsyncConnection, event_ids: Collection[str], owner: str) -> None:
    """Give back claimed events that were not attempted (a sender shutting down)."""
    await OUTBOX.release(conn, event_ids, owner)


async def extend_lease(
    conn: AsyncConnection, owner: str, event_ids: Collection[str], until_ms: int
) -> None:
    """Keep claimed events leased while they wait for their receiver or travel to it."""
    await OUTBOX.extend(conn, event_ids, owner, until_ms)


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


_view = reader(EventView)


async def failures(
    conn: AsyncConnection, key_id: int | None = None, limit: int = 100
) -> list[EventView]:
    """Dead events (every attempt used), newest first."""
    statement, values = _FAILURES.bind({"key": key_id})
    rows = await statement.rows(conn, EventStatus.DEAD.value, *values, limit)
    return [_view(row) for row in rows]


async def recent(conn: AsyncConnection, key_id: int, limit: int) -> list[EventView]:
    """A key's latest events, whatever their state, newest first."""
    return [_view(row) for row in await _RECENT.rows(conn, key_id, limit)]


async def key_of_event(conn: AsyncConnection, event_id: str) -> int | None:
    row = await _KEY_OF_EVENT.first(conn, event_id)
    return int(row["key_id"]) if row else None


@dataclass(frozen=True, slots=True)
class AttemptView:
    """One attempt as it was recorded."""

    event_id: str
    attempt: int
    at_ms: int
    status_code: int | None
    latency_ms: int
    error: str | None


_attempt_view = reader(AttemptView)


async def attempts_of(conn: AsyncConnection, event_ids: Sequence[str]) -> list[AttemptView]:
    """Every attempt of those events, by event and in the order they were made."""
    if not event_ids:
        return []
    return [_attempt_view(row) for row in await _ATTEMPTS_OF.rows(conn, list(event_ids))]


async def counts(conn: AsyncConnection, key_id: int) -> dict[str, int]:
    return {row["status"]: int(row["count"]) for row in await _COUNTS.rows(conn, key_id)}


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
    given = {"key": key_id, "since": since_ms, "until": until_ms}
    if event_ids:
        statement, values = _REPLAY_CHOSEN.bind(given)
        return await statement.run(conn, now_ms, list(event_ids), *values)
    statement, values = _REPLAY_DEAD.bind(given)
    return await statement.run(conn, now_ms, *values)
