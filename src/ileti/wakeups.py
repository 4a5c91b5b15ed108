"""Telling workers that there is new work, so that they need not poll for it."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable

Listener = Callable[[bool], None]

# What a bell carries: one byte a ring, its kind.
_URGENT, _NORMAL = b"u", b"n"


class Wakeups:
    """Listeners called when messages are queued (``urgent`` for OTPs) or events are due.

    With ``ileti serve`` in one process the worker listens in the same process; with API
    processes beside it, each of them rings a ``Bell`` the worker hears; with ``ileti api``
    nobody listens, and workers find the work at their next poll.
    """

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def ring(self, urgent: bool = False) -> None:
        for listener in self._listeners:
            listener(urgent)


class Bell:
    """A ring from another process, over a pipe: the API processes write, the worker reads.

    A write never waits: when the pipe is full, the worker has rings enough to read, and one
    more would tell it nothing new.
    """

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd, self.write_fd = read_fd, write_fd

    @classmethod
    def open(cls) -> Bell:
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)
        return cls(read_fd, write_fd)

    @staticmethod
    def ringer(write_fd: int) -> Listener:
        """A listener, for the API process holding ``write_fd``, that rings the worker."""

        def ring(urgent: bool) -> None:
            with contextlib.suppress(BlockingIOError):
                os.write(write_fd, _URGENT if urgent else _NORMAL)

        return ring

    def hear(self, listener: Listener) -> None:
        """Call ``listener`` on the running loop for what the other processes ring."""

        def readable() -> None:
            try:
                rings = os.read(self.read_fd, 65536)
            except BlockingIOError:
                return
            if rings:
                listener(_URGENT in rings)

        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.read_fd, readable)

    def close(self) -> None:
        if (loop := getattr(self, "_loop", None)) is not None:
            loop.remove_reader(self.read_fd)
        os.close(self.read_fd)
        os.close(self.write_fd)
