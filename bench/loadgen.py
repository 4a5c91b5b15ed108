"""HTTP/1.1 load generator for the gateway's JSON-over-POST API.

Holds `concurrency` keep-alive connections, each with one request in flight, and sends either as
fast as responses come back (closed loop) or at a fixed rate across all of them (open loop). In
open loop a request's latency runs from its scheduled send time, so a server that falls behind
shows its queueing in the percentiles instead of slowing the client down (coordinated omission).
Requests are encoded once up front and only the status line, Content-Length and body of a
response are read, which keeps one core well ahead of a single uvicorn process.

    .venv/bin/python bench/loadgen.py http://127.0.0.1:8000 --path /auth/check \\
        --body '{"api_key": "..."}' --concurrency 64 --duration 10 [--rate 1000]

``Client`` sends requests of any kind on the same connections, each when its caller decides
(a mixed load on a schedule of its own, as ``soak.py`` makes).

Benchmark scripts import it after `sys.path.insert(0, str(Path(__file__).parent))`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

Body = bytes | str | Mapping[str, Any]
T = TypeVar("T")

_RESULT_CODE = re.compile(rb'"result_code"\s*:\s*"(TS-\d+)"')
_CONTENT_LENGTH = b"\r\ncontent-length:"
# Pause after a failed connect so a refused port costs errors, not a busy loop.
_RECONNECT_PAUSE = 0.01
# Client: seconds a connection may wait idle before it is closed instead of reused.
_KEEP_IDLE = 2.0


def _encode_body(body: Body) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass(frozen=True)
class RequestSource:
    """What to POST: a path, a body and extra headers.

    `body` is one body, a list or tuple of bodies sent in rotation, or a callable given the
    request's sequence number (unique across connections) that returns the body. A body is bytes,
    str, or a mapping encoded as JSON; a JSON array body must be passed pre-encoded, since a list
    means rotation.
    """

    path: str
    body: Body | Sequence[Body] | Callable[[int], Body]
    headers: Mapping[str, str] = field(default_factory=dict)

    def encoder(self, host: str, base_path: str = "") -> Callable[[int], bytes]:
        """A function from sequence number to the complete request bytes."""
        fields = {"Host": host, "Content-Type": "application/json", **self.headers}
        head = f"POST {base_path.rstrip('/')}{self.path} HTTP/1.1\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in fields.items())
        prefix = head.encode() + b"Content-Length: "

        def build(body: bytes) -> bytes:
            return b"%s%d\r\n\r\n%s" % (prefix, len(body), body)

        body = self.body
        if callable(body):
            produce = body
            return lambda i: build(_encode_body(produce(i)))
        bodies = body if isinstance(body, list | tuple) else [body]
        encoded = [build(_encode_body(b)) for b in bodies]
        count = len(encoded)
        return lambda i: encoded[i % count]


@dataclass(frozen=True)
class LoadResult:
    requests: int  # responses received, whatever their status
    errors: int  # failed connects, resets, timeouts and unparseable responses
    elapsed: float  # seconds
    status_counts: dict[int, int]
    result_codes: dict[str, int]  # from the `result_code` field of response bodies
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    client_cpu: float  # this process's CPU time over elapsed; near 1.0 means the client limits
    target_rate: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    def format(self) -> str:
        target = f" (target {self.target_rate:,.0f}/s)" if self.target_rate else ""
        lines = [
            f"{self.requests:,} requests in {self.elapsed:.2f}s, {self.rps:,.0f} req/s{target}, "
            f"{self.errors:,} errors, client CPU {self.client_cpu:.0%}",
            f"  latency ms  p50 {self.p50_ms:.2f}  p90 {self.p90_ms:.2f}  "
            f"p99 {self.p99_ms:.2f}  max {self.max_ms:.2f}",
        ]
        if self.status_counts:
            counts = sorted(self.status_counts.items())
            lines.append("  status      " + "  ".join(f"{k}: {v:,}" for k, v in counts))
        if self.result_codes:
            codes = sorted(self.result_codes.items())
            lines.append("  result_code " + "  ".join(f"{k}: {v:,}" for k, v in codes))
        return "\n".join(lines)


class _ResponseError(Exception):
    pass


class _Connection(asyncio.Protocol):
    """One keep-alive connection; `waiter` resolves to (status, body) of the next response."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.sent_at = 0.0
        self.reusable = True
        self.head = b""  # the last response's status line and headers, lower-cased

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport but have the same methods.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parse(self.buffer + data if self.buffer else data)
        except ValueError as exc:
            self.fail(_ResponseError(f"unparseable response: {exc}"))

    def parse(self, buffer: bytes) -> None:
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            self.buffer = buffer
            return
        if not buffer.startswith(b"HTTP/1."):
            raise ValueError(f"bad status line {buffer[:40]!r}")
        status = int(buffer[9:12])
        head = buffer[:end].lower()
        at = head.find(_CONTENT_LENGTH)
        if at >= 0:
            eol = head.find(b"\r\n", at + len(_CONTENT_LENGTH))
            length = int(head[at + len(_CONTENT_LENGTH) : eol if eol >= 0 else None])
        elif b"\r\ntransfer-encoding:" in head:
            raise ValueError("only Content-Length framed responses are read")
        else:
            length = 0
        stop = end + 4 + length
        if len(buffer) < stop:
            self.buffer = buffer
            return
        self.buffer = buffer[stop:]
        if b"\r\nconnection: close" in head:
            self.reusable = False
        self.head = head
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((status, buffer[end + 4 : stop]))

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc or ConnectionResetError("connection closed by server"))

    def fail(self, exc: Exception) -> None:
        """Fails the pending request and drops the connection."""
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.reusable = False
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()


@dataclass
class _State:
    host: str
    port: int
    request: Callable[[int], bytes]
    limit: int
    deadline: float
    interval: float  # seconds between scheduled sends in open loop, 0 in closed loop
    timeout: float
    start: float = 0.0
    issued: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    status_counts: dict[int, int] = field(default_factory=dict)
    result_codes: dict[bytes, int] = field(default_factory=dict)
    connections: set[_Connection] = field(default_factory=set)

    async def connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.timeout):
            _, conn = await loop.create_connection(_Connection, self.host, self.port)
        self.connections.add(conn)
        return conn

    def drop(self, conn: _Connection) -> None:
        self.connections.discard(conn)
        conn.close()


async def _worker(state: _State, conn: _Connection | None) -> None:
    loop = asyncio.get_running_loop()
    perf = time.perf_counter
    latencies = state.latencies
    status_counts = state.status_counts
    result_codes = state.result_codes
    search = _RESULT_CODE.search
    try:
        while True:
            seq = state.issued
            if seq >= state.limit:
                return
            state.issued = seq + 1
            if state.interval:
                scheduled = state.start + seq * state.interval
                if scheduled >= state.deadline:
                    return
                delay = scheduled - perf()
                if delay > 0:
                    await asyncio.sleep(delay)
            if conn is None or not conn.reusable:
                if conn is not None:
                    state.drop(conn)
                try:
                    conn = await state.connect()
                except (OSError, TimeoutError):
                    conn = None
                    state.errors += 1
                    await asyncio.sleep(_RECONNECT_PAUSE)
                    continue
            waiter: asyncio.Future[tuple[int, bytes]] = loop.create_future()
            conn.waiter = waiter
            conn.sent_at = sent = perf()
            if not state.interval:
                scheduled = sent
            assert conn.transport is not None
            conn.transport.write(state.request(seq))
            try:
                status, body = await waiter
            except (OSError, TimeoutError, _ResponseError):
                state.errors += 1
                conn.reusable = False
                continue
            latencies.append(perf() - scheduled)
            status_counts[status] = status_counts.get(status, 0) + 1
            match = search(body)
            if match:
                code = match.group(1)
                result_codes[code] = result_codes.get(code, 0) + 1
    finally:
        if conn is not None:
            state.drop(conn)


async def _watchdog(state: _State) -> None:
    """Times out requests without a per-request timer, which would cost more than the request."""
    period = min(state.timeout / 4, 0.25)
    while True:
        await asyncio.sleep(period)
        too_old = time.perf_counter() - state.timeout
        for conn in list(state.connections):
            if conn.waiter is not None and conn.sent_at < too_old:
                conn.fail(TimeoutError(f"no response within {state.timeout}s"))


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run_load(
    url: str,
    requests: RequestSource,
    *,
    concurrency: int,
    duration: float | None = None,
    total: int | None = None,
    rate: float | None = None,
    request_timeout: float = 10.0,
) -> LoadResult:
    """POSTs `requests` to the http:// `url` until `duration` seconds pass or `total` requests
    (responses plus errors) are done, whichever comes first.

    Without `rate` each connection sends its next request once the last is answered; with it,
    requests are scheduled `1/rate` apart across all connections. A request unanswered after
    `request_timeout` seconds counts as an error and its connection is replaced, so the run
    always ends.
    """
    if duration is None and total is None:
        raise ValueError("give duration, total or both")
    if concurrency < 1 or (rate is not None and rate <= 0):
        raise ValueError("concurrency and rate must be positive")
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"only http:// URLs are supported: {url!r}")
    state = _State(
        host=parts.hostname,
        port=parts.port or 80,
        request=requests.encoder(parts.netloc, parts.path),
        limit=total if total is not None else sys.maxsize,
        deadline=float("inf"),
        interval=1 / rate if rate else 0.0,
        timeout=request_timeout,
    )
    # Connect before the clock starts so handshakes do not count as latency; a connection
    # that fails here is opened again by its worker.
    opened = await asyncio.gather(
        *(state.connect() for _ in range(concurrency)), return_exceptions=True
    )
    cpu_start = time.process_time()
    state.start = time.perf_counter()
    if duration is not None:
        state.deadline = state.start + duration
    workers = [
        asyncio.create_task(_worker(state, c if isinstance(c, _Connection) else None))
        for c in opened
    ]
    watchdog = asyncio.create_task(_watchdog(state))
    try:
        await asyncio.wait(workers, timeout=duration)
    finally:
        elapsed = time.perf_counter() - state.start
        cpu = time.process_time() - cpu_start
        for task in [*workers, watchdog]:
            task.cancel()
        outcomes = await asyncio.gather(*workers, watchdog, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
    latencies = sorted(state.latencies)
    return LoadResult(
        requests=len(latencies),
        errors=state.errors,
        elapsed=elapsed,
        status_counts=dict(state.status_counts),
        result_codes={k.decode(): v for k, v in state.result_codes.items()},
        p50_ms=_percentile(latencies, 0.50),
        p90_ms=_percentile(latencies, 0.90),
        p99_ms=_percentile(latencies, 0.99),
        max_ms=latencies[-1] * 1000 if latencies else 0.0,
        client_cpu=cpu / elapsed if elapsed > 0 else 0.0,
        target_rate=rate,
    )


@dataclass(frozen=True)
class Reply:
    status: int
    head: bytes  # status line and headers, lower-cased
    body: bytes

    def header(self, name: str) -> str | None:
        marker = b"\r\n" + name.lower().encode() + b":"
        at = self.head.find(marker)
        if at < 0:
            return None
        end = self.head.find(b"\r\n", at + len(marker))
        return self.head[at + len(marker) : end if end >= 0 else None].strip().decode()

    @property
    def result_code(self) -> str | None:
        match = _RESULT_CODE.search(self.body)
        return match.group(1).decode() if match else None

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """Keep-alive connections to one server for requests of any kind, each sent when its caller
    says. A request takes an idle connection or opens one (up to ``limit`` at once), so a slow
    answer holds up no other request; timing them is the caller's. Raises OSError (refused,
    reset), TimeoutError, or ValueError for an unreadable answer."""

    def __init__(self, url: str, *, timeout: float = 60.0, limit: int = 1000) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http:// URLs are supported: {url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.netloc, self.base_path = parts.netloc, parts.path.rstrip("/")
        self.timeout = timeout
        self._slots = asyncio.Semaphore(limit)
        self._idle: list[tuple[_Connection, float]] = []  # with when each became idle
        self._open: set[_Connection] = set()

    async def post(self, path: str, body: Body, headers: Mapping[str, str] | None = None) -> Reply:
        payload = _encode_body(body)
        fields = {"Host": self.netloc, "Content-Type": "application/json", **(headers or {})}
        head = f"POST {self.base_path}{path} HTTP/1.1\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in fields.items())
        request = head.encode() + b"Content-Length: %d\r\n\r\n" % len(payload) + payload
        async with self._slots:
            conn = await self._take()
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[tuple[int, bytes]] = loop.create_future()
            conn.waiter = waiter
            assert conn.transport is not None
            conn.transport.write(request)
            try:
                async with asyncio.timeout(self.timeout):
                    status, answer = await waiter
            except (OSError, TimeoutError, _ResponseError) as error:
                conn.fail(error)
                self._open.discard(conn)
                if isinstance(error, _ResponseError):
                    raise ValueError(str(error)) from None
                raise
            reply = Reply(status, conn.head, answer)
            if conn.reusable:
                self._idle.append((conn, time.monotonic()))
            else:
                self._drop(conn)
            return reply

    async def _take(self) -> _Connection:
        # The most recently used first. A connection idle for a while is closed here rather
        # than reused, so that a server closing it at the same moment (uvicorn does after
        # 5 s) does not fail a request: those below it in the list are older still.
        while self._idle:
            conn, since = self._idle.pop()
            if time.monotonic() - since > _KEEP_IDLE:
                for old, _ in [(conn, since), *self._idle]:
                    self._drop(old)
                self._idle.clear()
                break
            if conn.reusable:
                return conn
            self._drop(conn)
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.timeout):
            _, conn = await loop.create_connection(_Connection, self.host, self.port)
        self._open.add(conn)
        return conn

    def _drop(self, conn: _Connection) -> None:
        self._open.discard(conn)
        conn.close()

    @property
    def connections(self) -> int:
        return len(self._open)

    def close(self) -> None:
        for conn in list(self._open):
            self._drop(conn)
        self._idle.clear()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Runs `coro` on uvloop when it is installed, else on the default asyncio loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def server_rss_mb(pid: int) -> float:
    """Resident memory of process `pid` in MiB, from /proc (Linux only)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise ValueError(f"no VmRSS for pid {pid}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Load an HTTP JSON-over-POST endpoint.")
    parser.add_argument("url", help="server base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--path", required=True, help="request path, e.g. /auth/check")
    parser.add_argument(
        "--body", action="append", default=[], help="JSON body; repeat to rotate several"
    )
    parser.add_argument(
        "--header", action="append", default=[], metavar="NAME:VALUE", help="extra header"
    )
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--duration", type=float, help="seconds (default 10 unless --total)")
    parser.add_argument("--total", type=int, help="stop after this many requests")
    parser.add_argument("--rate", type=float, help="open loop at this many requests/s")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request seconds")
    args = parser.parse_args(argv)
    headers = dict(h.split(":", 1) for h in args.header)
    source = RequestSource(
        args.path,
        args.body or ["{}"],
        {name.strip(): value.strip() for name, value in headers.items()},
    )
    duration = args.duration if args.duration or args.total else 10.0
    result = run(
        run_load(
            args.url,
            source,
            concurrency=args.concurrency,
            duration=duration,
            total=args.total,
            rate=args.rate,
            request_timeout=args.timeout,
        )
    )
    print(result.format())


if __name__ == "__main__":
    main()
