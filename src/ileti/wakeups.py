"""Telling in-process workers that there is new work, so that they need not poll for it."""

from __future__ import annotations

from collections.abc import Callable


class Wakeups:
    """Listeners called when messages are queued (``urgent`` for OTPs) or events are due.

    With ``ileti serve`` the worker listens in the same process; with ``ileti api`` nobody
    does, and workers find the work at their next poll.
    """

    def __init__(self) -> None:
        self._listeners: list[Callable[[bool], None]] = []

    def listen(self, listener: Callable[[bool], None]) -> None:
        self._listeners.append(listener)

    def ring(self, urgent: bool = False) -> None:
        for listener in self._listeners:
            listener(urgent)
