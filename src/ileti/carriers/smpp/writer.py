"""Writing PDUs to a connection in batches, for both ends of SMPP: our sessions and the SMSC
simulator's connections."""

from __future__ import annotations

import asyncio

# Writes are gathered per loop turn, but sent at least every this many PDUs so that the peer
# works on the first ones while the rest are made: both sides then keep busy at once.
FLUSH_EVERY = 16


class BatchWriter:
    """Gathers the PDUs written in one loop turn into one write; once closed, writes nothing."""

    __slots__ = ("_closed", "_loop", "_outbox", "_writer")

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._loop = asyncio.get_running_loop()
        self._outbox: list[bytes] = []
        self._closed = False

    def send(self, data: bytes) -> None:
        if self._closed:
            return
        outbox = self._outbox
        outbox.append(data)
        if len(outbox) == 1:
            self._loop.call_soon(self.flush)
        elif len(outbox) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if self._outbox and not self._writer.is_closing():
            self._writer.write(b"".join(self._outbox))
        self._outbox.clear()

    def close(self) -> None:
        """Send what was gathered, take nothing more and close the connection."""
        self._closed = True
        self.flush()
        self._writer.close()
