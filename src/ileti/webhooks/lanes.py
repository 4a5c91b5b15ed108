"""Connections to receivers: per receiver URL, up to ``per_receiver`` lanes, each one keep-alive
HTTP/1.1 connection that carries one request at a time.

The client is a small one of our own on asyncio streams. A webhook delivery needs little of
HTTP (a ``POST`` with a body we made, a status line, a few headers, at most a few KiB of the
answer), and a general client costs over a millisecond of CPU per request, which at thousands of
events a second is the whole machine. A lane is never shared, so the lanes of a receiver are
also its bound: a slow or hanging receiver waits for its own lanes and nobody else's.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

# A status line and headers longer than this are not an answer we take.
MAX_HEAD_BYTES = 16 * 1024


class ProtocolError(Exception):
    """The receiver answered something that is not HTTP/1.x."""


class StaleConnection(ConnectionError):
    """A kept-alive connection closed before the answer began: the request never reached it."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    # Names in lower case.
    headers: dict[str, str]
    # At most the ``max_body`` bytes asked for.
    body: bytes


@dataclass(frozen=True, slots=True)
class _Endpoint:
    scheme: str
    host: str
    port: int
    sni: str | None


class Lane:
    """One connection to a receiver, opened on first use and kept alive between requests."""

    def __init__(self, tls: ssl.SSLContext) -> None:
        self._tls = tls
        self._endpoint: _Endpoint | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(
        self,
        url: httpx.URL,
        headers: Mapping[str, str],
        body: bytes,
        *,
        host_header: str | None = None,
        sni_hostname: str | None = None,
        max_body: int = 4096,
    ) -> Answer:
        """Send ``body`` to ``url`` (whose host may be the address to connect to, with
        ``host_header`` and ``sni_hostname`` naming the server) and read the answer.

        A cancellation or any error leaves the connection closed, never half-read.
        """
        endpoint = _Endpoint(
            url.scheme,
            url.host,
            url.port or (443 if url.scheme == "https" else 80),
            sni_hostname or (url.host if url.scheme == "https" else None),
        )
        request = _request(url, host_header, headers, body)
        reused = self._open_for(endpoint)
        try:
            if not reused:
                await self._connect(endpoint)
            try:
                return await self._exchange(request, max_body)
            except StaleConnection:
                if not reused:
                    raise
            # The receiver closed an idle connection as we used it: once more on a new one.
            self.close()
            await self._connect(endpoint)
            return await self._exchange(request, max_body)
        except BaseException:
            self.close()
            raise

    def _open_for(self, endpoint: _Endpoint) -> bool:
        """Whether the open connection can carry a request to ``endpoint``."""
        if (
            self._writer is not None
            and self._reader is not None
            and self._endpoint == endpoint
            and not self._writer.is_closing()
            and not self._reader.at_eof()
        ):
            return True
        self.close()
        return False

    async def _connect(self, endpoint: _Endpoint) -> None:
        tls = self._tls if endpoint.scheme == "https" else None
        self._reader, self._writer = await asyncio.open_connection(
            endpoint.host,
            endpoint.port,
            ssl=tls,
            server_hostname=endpoint.sni if tls else None,
            limit=MAX_HEAD_BYTES,
        )
        self._endpoint = endpoint

    async def _exchange(self, request: bytes, max_body: int) -> Answer:
        assert self._reader is not None and self._writer is not None
        self._writer.write(request)
        await self._writer.drain()
        answer, reusable = await _read_answer(self._reader, max_body)
        if not reusable:
            self.close()
        return answer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = self._endpoint = None


def _request(
    url: httpx.URL, host_header: str | None, headers: Mapping[str, str], body: bytes
) -> bytes:
    host = host_header or url.netloc.decode("ascii")
    lines = [
        f"POST {url.raw_path.decode('ascii')} HTTP/1.1",
        f"Host: {host}",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_answer(reader: asyncio.StreamReader, max_body: int) -> tuple[Answer, bool]:
    """The answer, and whether the connection may carry another request."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise StaleConnection("the receiver closed the connection") from None
            raise ProtocolError("the answer ended within its headers") from None
        except asyncio.LimitOverrunError:
            raise ProtocolError(f"headers over {MAX_HEAD_BYTES} bytes") from None
        version, status, headers = _parse_head(head)
        # 1xx answers are interim: the real one follows.
        if not 100 <= status < 200:
            break
    reusable = version == "HTTP/1.1" and "close" not in _tokens(headers.get("connection", ""))
    if status in (204, 304):
        return Answer(status, headers, b""), reusable
    if "chunked" in _tokens(headers.get("transfer-encoding", "")):
        body, complete = await _read_chunked(reader, max_body)
        return Answer(status, headers, body), reusable and complete
    length = headers.get("content-length")
    if length is None:
        # Delimited by the end of the connection: read what we want and hang up.
        return Answer(status, headers, await reader.read(max_body)), False
    if not length.isdigit():
        raise ProtocolError(f"Content-Length {length!r}")
    size = int(length)
    body = await reader.readexactly(min(size, max_body))
    return Answer(status, headers, body), reusable and size <= max_body


def _parse_head(head: bytes) -> tuple[str, int, dict[str, str]]:
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"not an HTTP answer: {status_line[:60]!r}")
    status = int(parts[1])
    if not 100 <= status <= 599:
        raise ProtocolError(f"status {status}")
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon:
            raise ProtocolError(f"a header line without a colon: {line[:60]!r}")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return parts[0], status, headers


def _tokens(value: str) -> set[str]:
    return {token.strip().lower() for token in value.split(",")}


async def _read_chunked(reader: asyncio.StreamReader, max_body: int) -> tuple[bytes, bool]:
    """Up to ``max_body`` bytes of a chunked body, and whether all of it was read."""
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size_text = size_line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProtocolError(f"chunk size {size_text[:20]!r}") from None
        if size == 0:
            # Trailers, if any, end with an empty line.
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return bytes(body), True
        if len(body) + size > max_body:
            body += await reader.readexactly(max_body - len(body))
            return bytes(body), False
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise ProtocolError("a chunk does not end with CRLF")


@dataclass
class _Receiver:
    lanes: asyncio.Semaphore
    idle: list[Lane] = field(default_factory=list)
    busy: int = 0
    last_used: float = field(default_factory=time.monotonic)


class Lanes:
    def __init__(self, *, per_receiver: int) -> None:
        self.per_receiver = per_receiver
        # One TLS context for every lane: making one is slow and each holds the CA store.
        self._tls = ssl.create_default_context()
        self._receivers: dict[str, _Receiver] = {}

    @asynccontextmanager
    async def lane(self, url: str) -> AsyncIterator[Lane]:
        """A lane of its own for one request to ``url``'s receiver; waits for a free one."""
        receiver = self._receivers.get(url)
        if receiver is None:
            receiver = self._receivers[url] = _Receiver(asyncio.Semaphore(self.per_receiver))
        async with receiver.lanes:
            lane = receiver.idle.pop() if receiver.idle else Lane(self._tls)
            receiver.busy += 1
            try:
                yield lane
            finally:
                receiver.busy -= 1
                receiver.last_used = time.monotonic()
                receiver.idle.append(lane)

    def close_idle(self, older_than: float) -> None:
        """Close the lanes of receivers not called for ``older_than`` seconds."""
        limit = time.monotonic() - older_than
        for url, receiver in list(self._receivers.items()):
            if receiver.busy == 0 and receiver.last_used < limit:
                del self._receivers[url]
                for lane in receiver.idle:
                    lane.close()

    def close(self) -> None:
        receivers, self._receivers = self._receivers, {}
        for receiver in receivers.values():
            for lane in receiver.idle:
                lane.close()
