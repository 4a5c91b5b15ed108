"""Per-key request limits with the ``limits`` library.

Memory storage serves one API process; with ``ILETI_REDIS_URL`` every API process counts in
Redis, so the limit holds for the key as a whole, not per process.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string


class RequestLimiter:
    def __init__(self, redis_url: str | None = None, namespace: str = "ileti") -> None:
        self.namespace = namespace
        self.storage = _storage(redis_url)
        self._strategy = SlidingWindowCounterRateLimiter(self.storage)
        self._items: dict[int, RateLimitItemPerMinute] = {}

    async def hit(self, key_id: int, per_minute: int) -> float | None:
        """Count one request; None if allowed, else the seconds to wait before retrying."""
        item = self._items.get(per_minute)
        if item is None:
            item = self._items[per_minute] = RateLimitItemPerMinute(per_minute)
        identity = f"{self.namespace}:key:{key_id}"
        if await self._strategy.hit(item, identity):
            return None
        stats = await self._strategy.get_window_stats(item, identity)
        return max(1.0, math.ceil(stats.reset_time - time.time()))

    async def reset(self) -> None:
        await self.storage.reset()


def _storage(redis_url: str | None) -> Storage:
    if not redis_url:
        return MemoryStorage()
    # redis-py's asyncio client; limits would otherwise pick coredis.
    shared = storage_from_string(_async_redis_uri(redis_url), implementation="redispy")
    assert isinstance(shared, Storage), "an async+ URL gives an asyncio storage"
    return shared


def _async_redis_uri(url: str) -> str:
    return url if url.startswith("async+") else f"async+{url}"
