"""The one-writer lock of an SQLite database, with a fast lane.

Every write of a process queues here (SQLite takes one writer at a time). Writes someone is
waiting for (accepting messages, an OTP on its way out) go ahead of background ones (bulk
dispatch, receipts), but never more than ``streak`` in a row while a background write waits,
so neither side starves.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriteLock:
    def __init__(self, streak: int = 2) -> None:
        self.streak = streak
        self._held = False
        self._in_a_row = 0
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def hold(self, urgent: bool = False) -> AsyncIterator[None]:
        if self._held or self._urgent or self._normal:
            waiter = asyncio.get_running_loop().create_future()
            (self._urgent if urgent else self._normal).append(waiter)
            try:
                await waiter  # the lock is handed over by _release, still held
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # handed over just as we were cancelled: pass it on
                raise
        else:
            self._held = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while True:
            urgent_turn = self._urgent and (self._in_a_row < self.streak or not self._normal)
            if urgent_turn:
                waiter = self._urgent.popleft()
            elif self._normal:
                waiter = self._normal.popleft()
            else:
                self._held = False
                return
            if waiter.done():
                continue  # cancelled while waiting
            self._in_a_row = self._in_a_row + 1 if urgent_turn else 0
            waiter.set_result(None)
            return
