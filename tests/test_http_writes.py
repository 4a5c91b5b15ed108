"""How answers leave the HTTP protocol: an answer's head goes with its body, in one write (one
system call, one TCP segment), and what has no body, or waits for one, still goes out whole.

The protocol is driven as the event loop drives it, by bytes in, with a transport that records
what is written (the socket is the operating system's); the same behaviours over a real socket
are in ``test_http_limits.py``."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from ileti.api.protocol import HttpLimits, limited_protocol

LIMITS = HttpLimits(max_header_bytes=16_384, stall_seconds=30.0, connections_per_address=0)


class Recording(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def answer(scope: Any, receive: Any, send: Any) -> None:
    """Echoes the body back; ``/chunks`` streams it in two pieces, a moment apart."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/chunks":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"second"})
        return
    length = str(len(body)).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", length)]}
    )
    await send({"type": "http.response.body", "body": body})


def connected() -> tuple[Any, Recording, ServerState]:
    """A connection of the API's protocol to ``answer``: the protocol, what it writes to, and
    the server's state (its count of answers completed)."""
    config = Config(app=answer, lifespan="off", log_config=None)
    config.load()
    state = ServerState()
    protocol = limited_protocol(LIMITS)(config=config, server_state=state, app_state={})
    transport = Recording()
    protocol.connection_made(transport)
    return protocol, transport, state


async def until(done: Callable[[], bool]) -> None:
    for _ in range(200):
        if done():
            return
        await asyncio.sleep(0.005)


async def served(*requests: bytes) -> Recording:
    """What the protocol wrote for ``requests`` (sent together), once every answer is out."""
    protocol, transport, state = connected()
    for request in requests:
        protocol.data_received(request)
    await until(lambda: state.total_requests == len(requests))
    protocol.connection_lost(None)
    return transport


def post(path: str, body: bytes, *headers: str) -> bytes:
    head = [f"POST {path} HTTP/1.1", "Host: gateway", f"Content-Length: {len(body)}", *headers]
    return "".join(line + "\r\n" for line in head).encode() + b"\r\n" + body


async def test_an_answer_of_one_piece_is_one_write() -> None:
    transport = await served(post("/", b'{"hello": 1}'))
    assert len(transport.writes) == 1
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"content-length: 12" in head
    assert body == b'{"hello": 1}'


async def test_pipelined_requests_get_one_write_each_in_order() -> None:
    transport = await served(post("/", b"one"), post("/", b"two"))
    assert [write.rpartition(b"\r\n\r\n")[2] for write in transport.writes] == [b"one", b"two"]


async def test_a_head_request_gets_its_head() -> None:
    request = b"HEAD / HTTP/1.1\r\nHost: gateway\r\n\r\n"
    transport = await served(request)
    assert len(transport.writes) == 1
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK")
    assert transport.writes[0].endswith(b"\r\n\r\n")


async def test_a_streamed_answer_starts_with_its_first_piece() -> None:
    transport = await served(post("/chunks", b""))
    assert len(transport.writes) == 2
    first, second = transport.writes
    assert first.startswith(b"HTTP/1.1 200 OK")
    assert b"transfer-encoding: chunked" in first
    assert first.endswith(b"\r\n\r\n5\r\nfirst\r\n")
    assert second == b"6\r\nsecond\r\n0\r\n\r\n"


async def test_continue_goes_before_the_body_is_read() -> None:
    """A client that asks ``Expect: 100-continue`` waits for it before sending the body: it must
    leave at once, not be held with the answer's head."""
    protocol, transport, state = connected()
    protocol.data_received(post("/", b"body", "Expect: 100-continue").removesuffix(b"body"))
    await until(lambda: bool(transport.writes))
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    protocol.data_received(b"body")
    await until(lambda: state.total_requests == 1)
    protocol.connection_lost(None)
    assert len(transport.writes) == 2
    assert transport.writes[1].startswith(b"HTTP/1.1 200 OK")
    assert transport.writes[1].endswith(b"\r\n\r\nbody")


async def test_an_answered_request_is_freed_by_reference_counting() -> None:
    """The gateway runs the cyclic collector rarely (``GC_THRESHOLDS``): what a request made
    must go once it is answered, without it."""
    protocol, transport, state = connected()
    gc.disable()
    try:
        protocol.data_received(post("/", b"one"))
        await until(lambda: state.total_requests == 1)
        answered = weakref.ref(protocol.cycle)
        protocol.data_received(post("/", b"two"))
        await until(lambda: state.total_requests == 2)
        assert answered() is None
    finally:
        gc.enable()
    protocol.connection_lost(None)
    assert len(transport.writes) == 2
