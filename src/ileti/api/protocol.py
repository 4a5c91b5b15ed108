"""The HTTP/1.1 protocol the API is served with: uvicorn's httptools protocol (chosen for its
speed), with the limits a server that faces the internet needs and uvicorn does not set.

- **Head size.** A request's head (request line and headers) larger than ``max_header_bytes``
  is answered 431 and the connection closed as soon as the cap is passed, so a head that never
  ends costs no more than the cap and one read.
- **Stalls.** A head must arrive whole within ``stall_seconds`` of its start (a new connection
  must start its first request within that time; between requests uvicorn's keep-alive timeout
  applies), and a body must bring something new at least every ``stall_seconds``: otherwise
  408, and the connection is closed.
- **Connections per address.** One client address (an IPv6 client's /64, which one host
  usually holds whole) holds at most ``connections_per_address`` open connections; one more is
  answered 503 and closed as it opens. Loopback and the trusted proxies are not bound: they
  carry the connections of other clients.

Every refusal is one log line and a count in ``ileti_http_refused``; a body cut for stalling is
the endpoint's to log and count (``ileti_http_abandoned``), as it knows the request. A request
that arrives in one piece costs the limits a few attribute reads; one in several pieces a
reading of the loop's clock, and at most one timer per connection every ``stall_seconds``.

An answer's head leaves with the first piece of its body (uvicorn writes them apart): one write,
one system call and one TCP segment for an answer of one piece, instead of two.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import ip_network
from typing import Any, ClassVar, cast

import httptools
import orjson
import structlog
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from ileti import codes
from ileti.access.authenticator import Network, address_of, trusted_networks, within
from ileti.api.endpoint import CUT, request_id_from
from ileti.codes import ResultCode
from ileti.config import Settings
from ileti.metrics import HTTP_REFUSED

log = structlog.get_logger("ileti.api")

# Where a connection is in its current request.
_IDLE, _HEAD, _BODY = 0, 1, 2


@dataclass(frozen=True)
class HttpLimits:
    max_header_bytes: int
    stall_seconds: float
    # 0: no bound.
    connections_per_address: int
    # Peers whose connections are not bound (with loopback): the trusted proxies.
    unbound: tuple[Network, ...] = ()


def http_protocol(settings: Settings) -> type[LimitedHttpProtocol]:
    """The protocol class for one server, with the limits ``settings`` give."""
    return limited_protocol(
        HttpLimits(
            max_header_bytes=settings.max_header_bytes,
            stall_seconds=settings.stall_seconds,
            connections_per_address=settings.connections_per_address,
            unbound=trusted_networks(settings.trusted_proxies),
        )
    )


def limited_protocol(limits: HttpLimits) -> type[LimitedHttpProtocol]:
    """A protocol class for one server: its connections share one count per address."""
    attributes: dict[str, Any] = {"limits": limits, "held": {}}
    return type("LimitedHttpProtocol", (LimitedHttpProtocol,), attributes)


class _Refused(Exception):
    """Stops the parser once a refusal has been answered."""


class LimitedHttpProtocol(HttpToolsProtocol):
    limits: ClassVar[HttpLimits]
    # Open connections by holder (an address, or an IPv6 /64), of the server this class is for.
    held: ClassVar[dict[str, int]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase = _IDLE
        # Bytes read while a head was awaited: an upper bound of the head's size.
        self._head_bytes = 0
        # When the head being awaited began, or the body last brought something (loop time).
        self._since = 0.0
        # One timer at most per connection, never cancelled on the way: when it fires it looks
        # at where the connection is, and sets itself again if it must. A busy connection so
        # makes one timer per stall_seconds at most, not one per request.
        self._timer: asyncio.TimerHandle | None = None
        self._counted: str | None = None
        self._refused = False

    # The connection.

    # asyncio.Protocol declares a BaseTransport; uvicorn's own protocol narrows it the same way.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limits = self.limits
        bound = limits.connections_per_address
        holder = _holder(self.client[0], limits.unbound) if self.client and bound else None
        if holder is not None:
            held = self.held.get(holder, 0)
            if held >= bound:
                self._refuse(
                    503,
                    "too_many_connections",
                    codes.UNAVAILABLE,
                    f"Too many connections from {holder}: {bound} at most. Reuse connections "
                    "(keep-alive), or retry once some have closed.",
                )
                return
            self.held[holder] = held + 1
            self._counted = holder
        # A new connection has this long to start its first request.
        self._since = self.loop.time()
        self._timer = self.loop.call_later(limits.stall_seconds, self._look)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._counted is not None:
            left = self.held[self._counted] - 1
            if left:
                self.held[self._counted] = left
            else:
                del self.held[self._counted]
            self._counted = None
        self._stop_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._unset_keepalive_if_required()
        was = self._phase
        if was != _BODY:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if not self._refused:
                message = "Invalid HTTP request received."
                self.logger.warning(message)
                self.send_400_response(message)
            return
        # A request that came whole leaves the connection idle: nothing more to do.
        if self._phase == _HEAD:
            if self._head_bytes > self.limits.max_header_bytes:
                self._refuse_large_head()
                return
            if was != _HEAD:
                self._watch()
        elif self._phase == _BODY:
            self._watch()

    # The parser's callbacks (the base class's methods called by name: cheaper than super()).

    def on_message_begin(self) -> None:
        self._phase = _HEAD
        HttpToolsProtocol.on_message_begin(self)

    def on_headers_complete(self) -> None:
        self._phase = _BODY
        # What was read may hold a body too: the head itself is measured only then.
        if self._head_bytes > self.limits.max_header_bytes and (
            self._head_size() > self.limits.max_header_bytes
        ):
            self._refuse_large_head()
            raise _Refused
        self._head_bytes = 0
        before = self.cycle
        HttpToolsProtocol.on_headers_complete(self)
        cycle = self.cycle
        if cycle is not None and cycle is not before:
            held = _HeadWithBody(self.transport, cycle.on_response)
            cycle.transport = cast(asyncio.Transport, held)
            cycle.on_response = held.complete

    def on_message_complete(self) -> None:
        self._phase = _IDLE
        HttpToolsProtocol.on_message_complete(self)

    # Limits.

    def _head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _refuse_large_head(self) -> None:
        cap = self.limits.max_header_bytes
        self._refuse(
            431,
            "header_too_large",
            codes.INVALID_JSON,
            f"Request headers are larger than {cap} bytes; send the key in the body or in one "
            "short header.",
        )

    def _watch(self) -> None:
        """A head began, or a body brought something: the clock starts again from now."""
        self._since = self.loop.time()
        if self._timer is None:
            self._timer = self.loop.call_later(self.limits.stall_seconds, self._look)

    def _look(self) -> None:
        self._timer = None
        stall = self.limits.stall_seconds
        cycle = self.cycle
        if self._phase == _IDLE and cycle is not None:
            return  # between requests: uvicorn's keep-alive timeout applies
        if self._phase == _HEAD and cycle is not None and not cycle.response_complete:
            # The previous request's answer is still being made: the next head waits for it.
            self._since = self.loop.time()
        elif self._phase == _BODY and self.flow.read_paused:
            # The endpoint has not taken what came: not the client's stall.
            self._since = self.loop.time()
        left = self._since + stall - self.loop.time()
        if left > 0:
            self._timer = self.loop.call_later(left, self._look)
        elif self._phase == _IDLE:
            # Connected, and never said anything.
            self.transport.close()
        elif self._phase == _HEAD:
            self._refuse(
                408,
                "head_stalled",
                codes.INVALID_JSON,
                f"The request's headers did not arrive within {stall:g} s.",
            )
        else:
            self._cut_stalled_body()

    def _cut_stalled_body(self) -> None:
        cycle = self.cycle
        if cycle is None or cycle.response_started or self.pipeline:
            # Answered already (refused on its declared length), or answers still going out.
            self.transport.close()
            return
        request_id = request_id_from(_header(cycle.scope["headers"], b"x-request-id"))
        # The endpoint, waiting for the body, sees the client gone, and logs and counts why.
        cast(dict[str, Any], cycle.scope)[CUT] = ("stalled", request_id)
        self._answer(
            408,
            codes.INVALID_JSON,
            f"The request body stalled: nothing arrived for {self.limits.stall_seconds:g} s.",
            request_id,
        )
        cycle.disconnected = True
        cycle.message_event.set()

    def _refuse(self, status: int, reason: str, result: ResultCode, message: str) -> None:
        self._refused = True
        self._stop_timer()
        request_id = request_id_from(None)
        _refusals(reason).inc()
        log.info(
            "request refused",
            request_id=request_id,
            reason=reason,
            status=status,
            client=self.client[0] if self.client else None,
        )
        self._answer(status, result, message, request_id)

    def _answer(self, status: int, result: ResultCode, message: str, request_id: str) -> None:
        """The envelope, with the status HTTP has for the problem; then the connection closes."""
        body = orjson.dumps(
            {
                "result": False,
                "result_code": result.code,
                "result_message": message,
                "request_id": request_id,
            }
        )
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head.append(
            b"content-type: application/json\r\ncontent-length: %d\r\nx-request-id: %s\r\n"
            b"connection: close\r\n\r\n" % (len(body), request_id.encode())
        )
        self.transport.write(b"".join(head) + body)
        self.transport.close()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class _HeadWithBody:
    """The transport as one request's cycle sees it: the answer's head is held until its body's
    first write (or the answer's end, when there is no body: HEAD, 204), and goes with it.

    It holds no reference to the cycle: the cycle holds it, and a loop between the two would
    leave every answered request to the cyclic collector (which runs rarely here, see
    ``cli/serve.GC_THRESHOLDS``) instead of reference counting."""

    __slots__ = ("_completed", "_head", "_head_written", "_transport")

    def __init__(self, transport: asyncio.Transport, completed: Callable[[], None]) -> None:
        self._transport = transport
        self._completed = completed
        self._head: bytes | None = None
        self._head_written = False

    def write(self, data: bytes) -> None:
        head = self._head
        if head is not None:
            self._head = None
            data = head + data
        elif not self._head_written and data != _CONTINUE:
            # The cycle writes nothing before the answer's head but a "100 Continue", which
            # goes at once (the client waits for it to send the body).
            self._head_written = True
            self._head = data
            return
        self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def complete(self) -> None:
        """The answer is complete: what is held goes (a head without a body)."""
        self._flush()
        self._completed()

    def _flush(self) -> None:
        if self._head is not None:
            self._transport.write(self._head)
            self._head = None


_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


@lru_cache(maxsize=4096)
def _holder(address: str, unbound: tuple[Network, ...]) -> str | None:
    """Whose count a connection from ``address`` goes to: the address, or its /64 for IPv6;
    None when it is not bound (loopback, a trusted proxy)."""
    parsed = address_of(address)
    if parsed is None or parsed.is_loopback or within(address, unbound):
        return None
    if parsed.version == 6:
        return str(ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


@lru_cache(maxsize=16)
def _refusals(reason: str) -> Any:
    return HTTP_REFUSED.labels(reason)
