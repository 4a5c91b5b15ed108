"""With Redis, API processes share one per-key limit instead of each counting alone."""

from __future__ import annotations

import os
import uuid

import pytest

from ileti.access.ratelimit import RequestLimiter

REDIS_URL = os.environ.get("ILETI_TEST_REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="Redis tests skipped: set ILETI_TEST_REDIS_URL")
async def test_two_limiters_on_redis_share_the_count() -> None:
    namespace = f"ileti-test-{uuid.uuid4().hex}"
    first = RequestLimiter(REDIS_URL, namespace)
    second = RequestLimiter(REDIS_URL, namespace)
    try:
        outcomes = [await limiter.hit(7, 4) for limiter in (first, second) * 3]
        assert outcomes[:4] == [None] * 4
        assert all(wait is not None and 1 <= wait <= 60 for wait in outcomes[4:])
    finally:
        await first.reset()


async def test_memory_limiters_count_alone() -> None:
    first, second = RequestLimiter(), RequestLimiter()
    assert [await first.hit(7, 2) for _ in range(3)][-1] is not None
    assert await second.hit(7, 2) is None
