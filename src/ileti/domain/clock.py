"""Time as the gateway reads it: one clock, passed to whatever decides by time.

Leases, validity, schedules, retries, rate windows, OTP expiry and the key cache all ask a
``Clock`` rather than the system, so a test can move time instead of waiting for it. This is the
one module of ``domain`` that looks outside the process: it reads the system's time.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The time now, aware, in UTC."""
        ...

    def now_ms(self) -> int:
        """The time now in Unix milliseconds (the queue's and the outbox's unit)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for intervals and deadlines."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()


def utcnow() -> datetime:
    """The system's time now, aware, in UTC."""
    return datetime.now(UTC)


def to_ms(moment: datetime) -> int:
    """A moment in Unix milliseconds."""
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """Unix milliseconds as an aware UTC moment."""
    return datetime.fromtimestamp(ms / 1000, UTC)
