"""Events and a key's webhook settings: pure data, no I/O.

An event's body is made once and never changes, so a retry or a replay is byte-identical and
carries the same ``event_id`` for the receiver to deduplicate on.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from ileti.domain.lifecycle import MessageStatus


class EventType(StrEnum):
    SMS_SENT = "sms.sent"
    SMS_DELIVERED = "sms.delivered"
    SMS_FAILED = "sms.failed"
    SMS_CANCELLED = "sms.cancelled"
    OTP_VERIFIED = "otp.verified"
    KEY_TEST = "key.test"
    # The account's main balance went below its low-balance threshold.
    ACCOUNT_LOW_BALANCE = "account.low_balance"


def event_for(status: MessageStatus) -> EventType:
    """The event a message's new state announces (expired is a kind of failure)."""
    if status is MessageStatus.SENT:
        return EventType.SMS_SENT
    if status is MessageStatus.DELIVERED:
        return EventType.SMS_DELIVERED
    if status in (MessageStatus.FAILED, MessageStatus.EXPIRED):
        return EventType.SMS_FAILED
    if status is MessageStatus.CANCELLED:
        return EventType.SMS_CANCELLED
    raise ValueError(f"no event announces {status}")


# Delays before the second, third, ... attempt, in seconds: the Standard Webhooks schedule.
DEFAULT_BACKOFF: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
DEFAULT_ATTEMPTS = 8
# Both secrets sign for this long after a rotation.
DEFAULT_GRACE_SECONDS = 24 * 3600
JITTER = 0.1


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """What ``ApiKey.webhook`` holds for a key.

    The secrets are as stored: sealed with the installation's key (``store.keyring``), so
    that the database alone does not give them away; only the sender opens them, to sign.
    """

    url: str
    secret: str
    enabled: bool = True
    events: frozenset[EventType] = field(default_factory=lambda: frozenset(EventType))
    # Attempts in all, the first one included.
    attempts: int = DEFAULT_ATTEMPTS
    backoff: tuple[float, ...] = DEFAULT_BACKOFF
    previous_secret: str | None = None
    previous_until_ms: int = 0

    def wants(self, event: EventType) -> bool:
        return self.enabled and (event is EventType.KEY_TEST or event in self.events)

    def signing_secrets(self, now_ms: int) -> list[str]:
        """The current secret, and the previous one while its grace period lasts (sealed)."""
        if self.previous_secret and now_ms < self.previous_until_ms:
            return [self.secret, self.previous_secret]
        return [self.secret]

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), with jitter."""
        base = self.backoff[min(attempt, len(self.backoff)) - 1] if self.backoff else 0.0
        return base * random.uniform(1 - JITTER, 1 + JITTER)

    def rotated(self, new_secret: str, now_ms: int, grace_seconds: float) -> WebhookConfig:
        return replace(
            self,
            secret=new_secret,
            previous_secret=self.secret,
            previous_until_ms=now_ms + int(grace_seconds * 1000),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "secret": self.secret,
            "enabled": self.enabled,
            "events": sorted(e.value for e in self.events),
            "attempts": self.attempts,
            "backoff": list(self.backoff),
            "previous_secret": self.previous_secret,
            "previous_until_ms": self.previous_until_ms,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> WebhookConfig | None:
        if not data or not data.get("url"):
            return None
        return cls(
            url=data["url"],
            secret=data["secret"],
            enabled=bool(data.get("enabled", True)),
            events=frozenset(EventType(e) for e in data.get("events", list(EventType))),
            attempts=int(data.get("attempts", DEFAULT_ATTEMPTS)),
            backoff=tuple(float(s) for s in data.get("backoff", DEFAULT_BACKOFF)),
            previous_secret=data.get("previous_secret"),
            previous_until_ms=int(data.get("previous_until_ms", 0)),
        )


@dataclass(frozen=True, slots=True)
class NewEvent:
    id: str
    key_id: int
    event_type: EventType
    body: str
    created_ms: int


def new_event_id() -> str:
    return f"evt_{secrets.token_hex(12)}"


def make_event(key_id: int, event_type: EventType, data: dict[str, Any], now: datetime) -> NewEvent:
    event_id = new_event_id()
    body = {
        "event_id": event_id,
        "event_type": event_type.value,
        "timestamp": now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "data": data,
    }
    return NewEvent(
        event_id, key_id, event_type, orjson.dumps(body).decode(), int(now.timestamp() * 1000)
    )


def message_data(
    sms_id: int,
    status: MessageStatus,
    sentto: str,
    number_of_sms: int,
    error_reason: str | None,
    group_id: int | None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sms_id": sms_id,
        "status": status.value,
        "sentto": sentto,
        "number_of_sms": number_of_sms,
    }
    if group_id is not None:
        data["group_id"] = group_id
    if error_reason:
        data["error_reason"] = error_reason
    return data
