"""The SQLite write lock: one holder, urgent writes first, background writes never starved."""

from __future__ import annotations

import asyncio

from ileti.store.write_lock import WriteLock


async def _take(lock: WriteLock, name: str, urgent: bool, order: list[str]) -> None:
    async with lock.hold(urgent):
        order.append(name)
        await asyncio.sleep(0)


async def test_urgent_writes_go_first_but_at_most_streak_in_a_row() -> None:
    lock = WriteLock(streak=2)
    order: list[str] = []
    async with lock.hold():
        tasks = [asyncio.ensure_future(_take(lock, f"bg{i}", False, order)) for i in range(3)]
        tasks += [asyncio.ensure_future(_take(lock, f"api{i}", True, order)) for i in range(5)]
        await asyncio.sleep(0)  # one turn of the loop: every task reaches the lock and waits
        assert order == []  # one holder at a time
    await asyncio.gather(*tasks)
    assert order == ["api0", "api1", "bg0", "api2", "api3", "bg1", "api4", "bg2"]


async def test_a_waiter_cancelled_before_or_while_being_handed_the_lock_passes_it_on() -> None:
    lock = WriteLock()
    order: list[str] = []
    async with lock.hold():
        gone = asyncio.ensure_future(_take(lock, "gone", True, order))
        after = asyncio.ensure_future(_take(lock, "after", False, order))
        await asyncio.sleep(0)
        gone.cancel()
    await asyncio.gather(after)
    assert order == ["after"]
    # Handed over and cancelled in the same turn: the next waiter still gets it.
    async with lock.hold():
        handed = asyncio.ensure_future(_take(lock, "handed", True, order))
        last = asyncio.ensure_future(_take(lock, "last", False, order))
        await asyncio.sleep(0)
    handed.cancel()
    await asyncio.gather(last, return_exceptions=True)
    assert order[-1] == "last"
    async with asyncio.timeout(1), lock.hold():
        pass  # and the lock is free again
