"""The HTTP edge of ``ileti serve`` on a real socket, spoken to in raw bytes: what a client that
hangs up, stalls, sends endless headers or opens too many connections gets, and what the
operator sees of it in the log and the metrics."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from support.server import ILETI, KEY_PATTERN, free_port, run_ileti

T = TypeVar("T")

STALL_SECONDS = "0.5"
# Generous bounds on waits for the server, so a broken server fails a test instead of hanging it.
ANSWER_WITHIN = 20.0


@dataclass
class Edge:
    process: subprocess.Popen[bytes]
    host: str
    port: int
    key: str
    log_path: Path
    env: dict[str, str]
    cwd: Path

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    async def metrics(self) -> str:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{self.base_url}/metrics")).text

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _serve(cwd: Path, host: str, env: dict[str, str]) -> Edge:
    """``ileti serve --demo`` on ``host``; returns once it answers, with its demo key."""
    port = free_port()
    log_path = cwd / f"serve-{port}.log"
    out_path = cwd / f"serve-{port}.out"
    with open(log_path, "wb") as log, open(out_path, "wb") as out:
        env = {"ILETI_DATABASE_URL": f"sqlite+aiosqlite:///{cwd / 'ileti.db'}", **env}
        process = subprocess.Popen(
            [*ILETI, "serve", "--demo", "--host", host, "--port", str(port)],
            env={**os.environ, **env},
            cwd=cwd,
            stdout=out,
            stderr=log,
        )
    edge = Edge(process, host, port, "", log_path, env, cwd)
    try:
        _until(lambda: _answers(edge), bool, within=30)
        match = KEY_PATTERN.search(out_path.read_text())
        assert match is not None, out_path.read_text()
    except BaseException:
        edge.stop()
        raise
    edge.key = match.group(0)
    return edge


def _answers(edge: Edge) -> bool:
    if edge.process.poll() is not None:
        raise RuntimeError(f"ileti serve exited: {edge.log_path.read_text()}")
    try:
        httpx.get(f"{edge.base_url}/openapi.json", timeout=1)
    except httpx.TransportError:
        return False
    return True


def _until(read: Callable[[], T], done: Callable[[T], bool], within: float = ANSWER_WITHIN) -> T:
    """What ``read`` returns once ``done`` holds of it; fails after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not done(value := read()):
        assert time.monotonic() < deadline, f"gave up waiting; last read {value!r}"
        time.sleep(0.05)
    return value


async def _eventually(read: Callable[[], Awaitable[T]], done: Callable[[T], bool]) -> T:
    """What ``read`` gives once ``done`` holds of it (a line is logged, a count goes up after
    the answer has left); fails after ``ANSWER_WITHIN`` seconds."""
    deadline = time.monotonic() + ANSWER_WITHIN
    while not done(value := await read()):
        assert time.monotonic() < deadline, f"gave up waiting; last read {value!r}"
        await asyncio.sleep(0.05)
    return value


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    """``ileti serve`` on loopback, cutting stalls after half a second, with a bound of two
    connections per address (which loopback, where a local proxy would sit, is exempt from),
    behind a proxy on loopback."""
    served = _serve(
        tmp_path_factory.mktemp("edge"),
        "127.0.0.1",
        {
            "ILETI_STALL_SECONDS": STALL_SECONDS,
            "ILETI_CONNECTIONS_PER_ADDRESS": "2",
            "ILETI_TRUSTED_PROXIES": "127.0.0.1",
        },
    )
    try:
        yield served
    finally:
        served.stop()


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name + "{"):
            continue
        sample, value = line.rsplit(" ", 1)
        if all(f'{label}="{wanted}"' in sample for label, wanted in labels.items()):
            return float(value)
    return 0.0


def _requests_of(text: str, endpoint: str) -> float:
    """Every ``ileti_http_requests_total`` of ``endpoint``, whatever its code."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("ileti_http_requests_total{") and f'endpoint="{endpoint}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        return json.loads(self.body)


async def _read_answer(reader: asyncio.StreamReader) -> Answer:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), ANSWER_WITHIN)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await asyncio.wait_for(reader.readexactly(length), ANSWER_WITHIN)
    return Answer(int(status_line.split(" ")[1]), headers, body)


async def _closed(reader: asyncio.StreamReader) -> bool:
    """Whether the server closed the connection (end of stream or reset), reading what is left."""
    try:
        return await asyncio.wait_for(reader.read(), ANSWER_WITHIN) == b""
    except ConnectionResetError:
        return True


def _head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: gateway", *headers]
    return "".join(line + "\r\n" for line in lines).encode()


def _request(path: str, body: bytes, *headers: str) -> bytes:
    return (
        _head(path, "Content-Type: application/json", f"Content-Length: {len(body)}", *headers)
        + b"\r\n"
        + body
    )


async def test_a_client_that_hangs_up_mid_body_is_one_line_and_counted_apart(edge: Edge) -> None:
    before = await edge.metrics()
    lines_before = len(edge.log_lines())
    _, writer = await asyncio.open_connection(edge.host, edge.port)
    writer.write(
        _head("/sms/send", "Content-Type: application/json", "Content-Length: 50") + b"\r\n{"
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()

    def abandoned(text: str) -> float:
        return _metric(
            text, "ileti_http_abandoned_total", endpoint="/sms/send", reason="client_closed"
        )

    after = await _eventually(edge.metrics, lambda text: abandoned(text) == abandoned(before) + 1)
    # Not an error of ours: no TS-1050, no request counted under any code.
    assert _requests_of(after, "/sms/send") == _requests_of(before, "/sms/send")
    new = edge.log_lines()[lines_before:]
    assert not [line for line in new if "Traceback" in line or "ClientDisconnect" in line]
    assert not [line for line in new if "TS-1050" in line or '"level":"error"' in line]
    events = [json.loads(line) for line in new if line.startswith("{")]
    left = [e for e in events if e.get("path") == "/sms/send"]
    assert len(left) == 1, new
    assert left[0]["event"] == "request abandoned"
    assert left[0]["reason"] == "client_closed"
    assert "exception" not in left[0]


async def test_headers_that_never_end_are_cut_at_the_cap(edge: Edge) -> None:
    """A head larger than 16 KiB is answered as soon as the cap is passed, before it ends."""
    reader, writer = await asyncio.open_connection(edge.host, edge.port)
    writer.write(_head("/balance") + b"X-Padding: " + b"a" * 20_000)
    await writer.drain()
    answer = await _read_answer(reader)
    assert answer.status == 431
    assert answer.json()["result"] is False
    assert "16384" in str(answer.json()["result_message"])
    assert await _closed(reader)
    writer.close()


async def test_a_fifty_megabyte_header_is_not_read(edge: Edge) -> None:
    """The server stops reading long before the client could send 50 MB."""
    _, writer = await asyncio.open_connection(edge.host, edge.port)
    chunk = b"a" * (1 << 20)
    writer.write(_head("/balance") + b"X-Padding: ")
    sent = 0
    with pytest.raises((ConnectionResetError, BrokenPipeError)):
        while sent < 50 << 20:
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), ANSWER_WITHIN)
            sent += len(chunk)
    assert sent < 50 << 20
    writer.close()


async def test_a_whole_head_over_the_cap_in_one_piece_is_refused(edge: Edge) -> None:
    reader, writer = await asyncio.open_connection(edge.host, edge.port)
    writer.write(_request("/balance", b"{}", "X-Padding: " + "a" * 17_000))
    await writer.drain()
    assert (await _read_answer(reader)).status == 431
    assert await _closed(reader)
    writer.close()


async def test_a_head_under_the_cap_is_served(edge: Edge) -> None:
    body = json.dumps({"api_key": edge.key}).encode()
    reader, writer = await asyncio.open_connection(edge.host, edge.port)
    writer.write(_request("/balance", body, "X-Padding: " + "a" * 12_000))
    await writer.drain()
    answer = await _read_answer(reader)
    assert (answer.status, answer.json()["result_code"]) == (200, "TS-1040")
    writer.close()


async def test_a_stalled_body_is_cut_with_408(edge: Edge) -> None:
    before = await edge.metrics()
    reader, writer = await asyncio.open_connection(edge.host, edge.port)
    writer.write(
        _head("/sms/send", "Content-Type: application/json", "Content-Length: 50") + b"\r\n{"
    )
    await writer.drain()
    answer = await _read_answer(reader)
    assert answer.status == 408
    assert answer.json()["result"] is False
    assert answer.json()["request_id"] == answer.headers["x-request-id"]
    assert await _closed(reader)
    writer.close()

    def stalled(text: str) -> float:
        return _metric(text, "ileti_http_abandoned_total", endpoint="/sms/send", reason="stalled")

    after = await _eventually(edge.metrics, lambda text: stalled(text) == stalled(before) + 1)
    assert _requests_of(after, "/sms/send") == _requests_of(before, "/sms/send")


async def test_a_stalled_head_is_cut_with_408(edge: Edge) -> None:
    reader, writer = await asyncio.open_connection(edge.host, edge.port)
    writer.write(_head("/balance") + b"X-Slow: one byte at a time")
    await writer.drain()
    assert (await _read_answer(reader)).status == 408
    assert await _closed(reader)
    writer.close()


async def test_a_connection_that_never_speaks_is_closed(edge: Edge) -> None:
    reader, writer = await asyncio.open_connection(edge.host, edge.port)
    assert await _closed(reader)
    writer.close()


async def test_an_ignored_field_is_a_warning_in_the_answer_and_the_log(edge: Edge) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{edge.base_url}/auth/check", json={"api_key": edge.key, "sms_lnag": 0}
        )
    reply = response.json()
    assert reply["result_code"] == "TS-1000"
    assert [w["field"] for w in reply["warnings"]] == ["sms_lnag"]

    async def logged() -> list[dict[str, object]]:
        return [
            event
            for line in edge.log_lines()
            if line.startswith("{")
            and (event := json.loads(line)).get("path") == "/auth/check"
            and event.get("warnings")
        ]

    events = await _eventually(logged, bool)
    assert events[-1]["warnings"] == reply["warnings"]
    assert events[-1]["request_id"] == response.headers["x-request-id"]


async def test_loopback_is_not_bound_by_connections_per_address(edge: Edge) -> None:
    """Five connections from loopback where the bound is two: a local proxy carries everyone's."""
    body = json.dumps({"api_key": edge.key}).encode()
    opened = [await asyncio.open_connection(edge.host, edge.port) for _ in range(5)]
    try:
        for reader, writer in opened:
            writer.write(_request("/auth/check", body))
            await writer.drain()
            assert (await _read_answer(reader)).status == 200
    finally:
        for _, writer in opened:
            writer.close()


async def test_behind_a_trusted_proxy_a_spoofed_forwarded_for_passes_no_allowlist(
    edge: Edge,
) -> None:
    """The client wrote 10.1.2.3; the proxy (on loopback) appended the address it saw."""
    made = await asyncio.to_thread(
        run_ileti, ["key", "create", "demo", "--allow-ip", "10.0.0.0/8"], edge.env, edge.cwd
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    async with httpx.AsyncClient(base_url=edge.base_url) as client:

        async def balance(forwarded_for: str) -> dict[str, object]:
            headers = {"X-Forwarded-For": forwarded_for}
            return (await client.post("/balance", json={"api_key": key}, headers=headers)).json()

        spoofed = await balance("10.1.2.3, 203.0.113.9")
        assert spoofed["result_code"] == "TS-1041"
        assert "203.0.113.9" in str(spoofed["result_message"])
        assert (await balance("10.1.2.3"))["result_code"] == "TS-1040"


def _outward_address() -> str | None:
    """An address of this host other than loopback, to be a client that is not local."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            # A datagram socket's connect only picks a route: nothing is sent.
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if ip_address(address).is_loopback else address


async def test_connections_per_address_are_bounded(tmp_path: Path) -> None:
    host = _outward_address()
    if host is None:
        pytest.skip("no address but loopback to connect from")
    served = await asyncio.to_thread(_serve, tmp_path, host, {"ILETI_CONNECTIONS_PER_ADDRESS": "3"})
    try:
        held = []
        for _ in range(3):
            reader, writer = await asyncio.open_connection(host, served.port)
            # A whole request answered: the server holds this connection; then half of the next
            # one, so it stays open while the test runs.
            writer.write(_request("/auth/check", b"{}"))
            await writer.drain()
            assert (await _read_answer(reader)).status == 401
            writer.write(_head("/auth/check"))
            await writer.drain()
            held.append((reader, writer))
        # Refused as it opens: the answer comes before any request.
        reader, writer = await asyncio.open_connection(host, served.port)
        refused = await _read_answer(reader)
        assert refused.status == 503
        assert refused.json()["result_code"] == "TS-1051"
        assert await _closed(reader)
        writer.close()
        # One of the three closes: the address may open another.
        held.pop()[1].close()

        async def another() -> int:
            reader, writer = await asyncio.open_connection(host, served.port)
            try:
                writer.write(_request("/auth/check", b"{}"))
                await writer.drain()
                return (await _read_answer(reader)).status
            except (ConnectionResetError, asyncio.IncompleteReadError):
                return 503  # refused, the answer lost to the reset of what was sent
            finally:
                writer.close()

        deadline = time.monotonic() + ANSWER_WITHIN
        while (status := await another()) == 503:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert status == 401
        for _, writer in held:
            writer.close()
    finally:
        await asyncio.to_thread(served.stop)
