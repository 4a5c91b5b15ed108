"""What the API's endpoints share: settings, the database, authentication."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ileti.api.auth import Authenticator
from ileti.api.ratelimit import RequestLimiter
from ileti.config import Settings
from ileti.store.db import Database


@dataclass
class ApiState:
    settings: Settings
    db: Database
    limiter: RequestLimiter
    authenticator: Authenticator
    # Called after messages are queued, so an in-process dispatcher wakes without polling.
    # Called with urgent=True when the new messages are OTPs.
    on_queued: list[Callable[..., None]] = field(default_factory=list)
    # Gathers concurrent single sends into shared transactions (see api.sending).
    send_batcher: Any = None
    # The key for OTP code hashes, read once (see api.routes.otp).
    otp_key: bytes | None = None

    def notify_queued(self, urgent: bool = False) -> None:
        for listener in self.on_queued:
            listener(urgent=urgent)

    @classmethod
    def create(cls, settings: Settings, db: Database) -> ApiState:
        limiter = RequestLimiter(settings.redis_url, settings.redis_namespace)
        authenticator = Authenticator(
            db,
            limiter,
            default_per_minute=settings.default_per_minute,
            cache_seconds=settings.key_cache_seconds,
        )
        return cls(settings, db, limiter, authenticator)
