"""A key's webhook: where its events go, their secret and schedule, the events that used every
attempt, replays, and the test event a customer asks for.

A secret is sealed with the installation's key before it is stored; the one made or given by a
call is returned in clear from that call only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ileti import codes
from ileti.codes import GatewayError
from ileti.domain import signing
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.errors import NotFound
from ileti.domain.webhooks import EventType, WebhookConfig, make_event
from ileti.store import audit
from ileti.store import keys as key_store
from ileti.store import webhooks as outbox
from ileti.store.db import Database
from ileti.store.keyring import Keyring, SecretKeyError
from ileti.store.keys import KeyRecord
from ileti.store.webhooks import AttemptView, EventStatus, EventView
from ileti.wakeups import Wakeups
from ileti.webhooks.urls import NotPublic, Resolver, UnsafeUrl

__all__ = [
    "AttemptView",
    "Delivery",
    "EventView",
    "KeyWebhook",
    "PrivateReceiver",
    "TestEvent",
    "WebhookChange",
    "WebhookState",
    "Webhooks",
]


class PrivateReceiver(ValueError):
    """A webhook URL on this machine or a network that is not public, while private receivers
    are not allowed."""


@dataclass(frozen=True, slots=True)
class WebhookChange:
    """What the operator sets of a key's webhook; None leaves a setting as it is."""

    url: str | None = None
    secret: str | None = None
    attempts: int | None = None
    backoff: tuple[float, ...] | None = None
    events: frozenset[EventType] | None = None
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class WebhookState:
    prefix: str
    config: WebhookConfig
    # The secret's first characters, for telling secrets apart; never the secret.
    secret_shown: str
    counts: dict[str, int]  # events by state
    # While a rotated-out secret still signs: until when (Unix ms).
    previous_secret_until_ms: int | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event and its attempts so far."""

    event: EventView
    attempts: list[AttemptView]


@dataclass(frozen=True, slots=True)
class KeyWebhook:
    """A key's webhook as the panel shows it; ``config`` None while it has none."""

    key: KeyRecord
    config: WebhookConfig | None
    # The secret's first characters, for telling secrets apart; never the secret.
    secret_shown: str | None
    counts: dict[str, int]
    previous_secret_until_ms: int | None
    recent: list[Delivery]
    dead: list[EventView]


@dataclass(frozen=True, slots=True)
class TestEvent:
    event_id: str
    url: str


class Webhooks:
    def __init__(
        self,
        db: Database,
        *,
        allow_private: bool = False,
        clock: Clock = SYSTEM_CLOCK,
        wakeups: Wakeups | None = None,
        keyring: Keyring,
    ) -> None:
        self.db = db
        self.clock = clock
        self.wakeups = wakeups or Wakeups()
        self.keyring = keyring
        self._resolver = Resolver(allow_private=allow_private)

    async def configure(self, key: str, change: WebhookChange) -> tuple[str, str | None]:
        """Set a key's webhook: its prefix, and its secret when a new one was made (shown
        this once)."""
        async with self.db.read() as conn:
            record = await key_store.find_key(conn, key)
        return record.prefix, await self._configure(record, change, actor=None)

    async def _configure(
        self, record: KeyRecord, change: WebhookChange, *, actor: str | None
    ) -> str | None:
        if change.secret is not None:
            signing.check_secret(change.secret)
        async with self.db.read() as conn:
            current = await outbox.get_config(conn, record.id)
        if current is None and change.url is None:
            raise ValueError("this key has no webhook yet: give --url")
        if change.url is not None:
            await self._check(change.url)
        new_secret = change.secret or (signing.new_secret() if current is None else None)
        config = current or WebhookConfig(url="", secret="")
        config = replace(
            config,
            url=change.url if change.url is not None else config.url,
            secret=self.keyring.seal(new_secret) if new_secret else config.secret,
            attempts=change.attempts if change.attempts is not None else config.attempts,
            backoff=change.backoff if change.backoff is not None else config.backoff,
            events=change.events if change.events is not None else config.events,
            enabled=change.enabled if change.enabled is not None else config.enabled,
        )
        async with self.db.write() as conn:
            await outbox.save_config(conn, record.id, config)
            if actor is not None:
                detail = " · ".join(
                    [
                        config.url,
                        ", ".join(sorted(e.value for e in config.events)),
                        "on" if config.enabled else "off",
                    ]
                )
                await audit.add(
                    conn,
                    record.account_id,
                    actor,
                    "webhook.set",
                    record.prefix,
                    self.clock.now(),
                    detail,
                )
        return new_secret

    async def state(self, key: str) -> WebhookState:
        async with self.db.read() as conn:
            record = await key_store.find_key(conn, key)
            config = await outbox.get_config(conn, record.id)
            if config is None:
                raise ValueError(f"{record.prefix} has no webhook")
            counts = await outbox.counts(conn, record.id)
        rotating = config.previous_secret and config.previous_until_ms > self.clock.now_ms()
        return WebhookState(
            record.prefix,
            config,
            self._shown(config.secret),
            {status.value: counts.get(status.value, 0) for status in EventStatus},
            config.previous_until_ms if rotating else None,
        )

    async def rotate_secret(self, key: str, grace_seconds: float) -> str:
        """A new secret; the old one signs too for ``grace_seconds``."""
        async with self.db.read() as conn:
            record = await key_store.find_key(conn, key)
        return await self._rotate(record, grace_seconds, actor=None)

    async def _rotate(self, record: KeyRecord, grace_seconds: float, *, actor: str | None) -> str:
        async with self.db.write() as conn:
            config = await outbox.get_config(conn, record.id)
            if config is None:
                raise ValueError(f"{record.prefix} has no webhook")
            new_secret = signing.new_secret()
            sealed = self.keyring.seal(new_secret)
            rotated = config.rotated(sealed, self.clock.now_ms(), grace_seconds)
            await outbox.save_config(conn, record.id, rotated)
            if actor is not None:
                await audit.add(
                    conn,
                    record.account_id,
                    actor,
                    "webhook.rotate_secret",
                    record.prefix,
                    self.clock.now(),
                )
        return new_secret

    async def failures(self, key: str | None, limit: int) -> list[EventView]:
        """Events that used every attempt, newest first."""
        async with self.db.read() as conn:
            key_id = (await key_store.find_key(conn, key)).id if key else None
            return await outbox.failures(conn, key_id, limit)

    async def replay(
        self,
        *,
        key: str | None = None,
        event_ids: Sequence[str] = (),
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> int:
        """Send events again with a fresh set of attempts; how many."""
        async with self.db.write() as conn:
            key_id = (await key_store.find_key(conn, key)).id if key else None
            return await outbox.replay(
                conn,
                self.clock.now_ms(),
                key_id=key_id,
                event_ids=event_ids,
                since_ms=since_ms,
                until_ms=until_ms,
            )

    async def send_test(self, key_id: int, prefix: str) -> TestEvent:
        """A signed ``key.test`` event to the key's receiver, through the outbox."""
        async with self.db.write() as conn:
            config = await outbox.get_config(conn, key_id)
            if config is None or not config.enabled:
                raise GatewayError(codes.NOT_FOUND, "No webhook is configured for this key.")
            data = {"key": prefix, "status": "test"}
            event = make_event(key_id, EventType.KEY_TEST, data, self.clock.now())
            await outbox.add(conn, [event])
        self.wakeups.ring()
        return TestEvent(event.id, config.url)

    # A key's webhook as its account's owners manage it in the panel: the key named by its id
    # (another account's is not found), every change in the audit log, never a secret.

    async def of_key(
        self, account_id: int, key_id: int, *, recent: int = 20, dead: int = 50
    ) -> KeyWebhook:
        async with self.db.read() as conn:
            record = await key_store.key_of_account(conn, account_id, key_id)
            config = await outbox.get_config(conn, record.id)
            if config is None:
                return KeyWebhook(record, None, None, {}, None, [], [])
            counts = await outbox.counts(conn, record.id)
            latest = await outbox.recent(conn, record.id, recent)
            attempts = await outbox.attempts_of(conn, [e.id for e in latest])
            failures = await outbox.failures(conn, record.id, dead)
        by_event: dict[str, list[AttemptView]] = {}
        for attempt in attempts:
            by_event.setdefault(attempt.event_id, []).append(attempt)
        rotating = config.previous_secret and config.previous_until_ms > self.clock.now_ms()
        return KeyWebhook(
            record,
            config,
            self._shown(config.secret),
            {status.value: counts.get(status.value, 0) for status in EventStatus},
            config.previous_until_ms if rotating else None,
            [Delivery(e, by_event.get(e.id, [])) for e in latest],
            failures,
        )

    async def configure_of(
        self, account_id: int, key_id: int, change: WebhookChange, *, actor: str
    ) -> str | None:
        """Sets the key's webhook; its secret when a new one was made (shown this once)."""
        async with self.db.read() as conn:
            record = await key_store.key_of_account(conn, account_id, key_id)
        return await self._configure(record, change, actor=actor)

    async def rotate_of(
        self, account_id: int, key_id: int, grace_seconds: float, *, actor: str
    ) -> str:
        async with self.db.read() as conn:
            record = await key_store.key_of_account(conn, account_id, key_id)
        return await self._rotate(record, grace_seconds, actor=actor)

    async def test_of(self, account_id: int, key_id: int) -> TestEvent:
        async with self.db.read() as conn:
            record = await key_store.key_of_account(conn, account_id, key_id)
        return await self.send_test(record.id, record.prefix)

    async def replay_of(
        self, account_id: int, key_id: int, event_id: str | None, *, actor: str
    ) -> int:
        """Sends again one event of the key (dead or delivered), or else all its dead ones;
        how many. An event of another key is not found."""
        async with self.db.write() as conn:
            record = await key_store.key_of_account(conn, account_id, key_id)
            if event_id is not None and await outbox.key_of_event(conn, event_id) != record.id:
                raise NotFound("no such event")
            now = self.clock.now()
            count = await outbox.replay(
                conn,
                self.clock.now_ms(),
                key_id=record.id,
                event_ids=[event_id] if event_id else (),
            )
            if count:
                await audit.add(
                    conn,
                    account_id,
                    actor,
                    "webhook.replay",
                    record.prefix,
                    now,
                    event_id or f"{count} dead",
                )
        if count:
            self.wakeups.ring()
        return count

    def _shown(self, sealed: str) -> str:
        try:
            return self.keyring.open(sealed)[:10] + "…"
        except SecretKeyError:
            return "(sealed with another secret key)"

    async def _check(self, url: str) -> None:
        """Refuse a URL the sender would refuse, resolving its name as a call would."""
        try:
            await self._resolver.target(url)
        except NotPublic as exc:
            raise PrivateReceiver(f"webhook URL refused: {exc}") from None
        except UnsafeUrl as exc:
            raise ValueError(f"webhook URL refused: {exc}") from None
