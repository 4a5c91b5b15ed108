"""Gathering concurrent requests into batches for work that is cheaper done together."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# What ``process`` is given: a call that cuts the batch from what waits at that moment.
Take = Callable[[], list[T]]


class Batcher(Generic[T, R]):
    """Runs ``process`` on everything submitted while the previous batch was being processed.

    No timer: the first item goes at once, and whatever arrives meanwhile forms the next batch,
    so a lone request waits for nothing and a crowd shares the cost. ``process`` cuts its batch
    with the ``take`` it is given, as late as it can: whatever arrives while it waits for what
    the batch needs (the database's one writer, say) goes in the same batch. It returns one
    outcome per item taken, an exception for an item that failed; an exception from
    ``process`` itself fails the whole batch.
    """

    def __init__(
        self, process: Callable[[Take[T]], Awaitable[Sequence[R | Exception]]], limit: int = 256
    ) -> None:
        self.process = process
        self.limit = limit
        # Each item with its answer to be and when it was submitted.
        self._waiting: list[tuple[T, asyncio.Future[R], float]] = []
        self._runner: asyncio.Task[None] | None = None
        # When the oldest item not yet answered was submitted (None: nothing is waiting).
        self._oldest: float | None = None

    def waited(self) -> float:
        """How long the oldest item not yet answered has been waiting, in seconds."""
        return 0.0 if self._oldest is None else time.monotonic() - self._oldest

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future, time.monotonic()))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._waiting:
            self._oldest = self._waiting[0][2]
            batch: list[tuple[T, asyncio.Future[R], float]] = []
            try:
                outcomes = await self.process(partial(self._take, batch))
            except Exception as exc:
                if not batch:
                    self._take(batch)  # it failed before it took its batch: that batch fails
                outcomes = [exc] * len(batch)
            for (_, future, _), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
        self._oldest = None

    def _take(self, batch: list[tuple[T, asyncio.Future[R], float]]) -> list[T]:
        taken, self._waiting = self._waiting[: self.limit], self._waiting[self.limit :]
        batch.extend(taken)
        return [item for item, _, _ in taken]
