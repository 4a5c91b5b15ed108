"""Spacing sends to a rate the operator allows."""

from __future__ import annotations

from ileti.domain.clock import SYSTEM_CLOCK, Clock


class Pacer:
    """Lets callers through at most ``rate`` per second, in the order they ask, with a burst of
    ``burst`` (a tenth of a second's worth by default) so sleeps stay coarse at high rates."""

    def __init__(
        self, rate: float, burst: int | None = None, *, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.rate = rate
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._burst = burst if burst is not None else max(1, int(rate / 10))
        self._clock = clock
        self._next = 0.0

    async def wait(self) -> None:
        if not self._interval:
            return
        now = self._clock.monotonic()
        earliest = now - self._interval * (self._burst - 1)
        slot = max(self._next, earliest)
        self._next = slot + self._interval
        if slot > now:
            await self._clock.sleep(slot - now)
