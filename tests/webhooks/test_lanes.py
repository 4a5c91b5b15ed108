"""The webhook HTTP client against a server that answers with raw bytes of our choosing."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from ileti.webhooks.lanes import Lane, ProtocolError

from .conftest import eventually


class RawServer:
    """Reads each request whole, then writes what ``answer`` gives for it (and hangs up when
    it gives ``None`` after the bytes)."""

    def __init__(self, answer: Callable[[int], tuple[bytes, bool]]) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.connections = 0
        self.hung_up = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                self.requests.append(head + await reader.readexactly(length))
                data, hang_up = self.answer(len(self.requests))
                writer.write(data)
                await writer.drain()
                if hang_up:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self.hung_up += 1


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., object]]:
    servers: list[asyncio.Server] = []

    async def start(answer: Callable[[int], tuple[bytes, bool]]) -> tuple[RawServer, httpx.URL]:
        raw = RawServer(answer)
        server = await asyncio.start_server(raw.serve, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return raw, httpx.URL(f"http://127.0.0.1:{port}/hook?x=1")

    yield start
    for server in servers:
        server.close()


def lane() -> Lane:
    return Lane(ssl.create_default_context())


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def test_one_connection_carries_many_requests(serve) -> None:
    raw, url = await serve(lambda _: (OK, False))
    client = lane()
    for i in range(5):
        answer = await client.post(url, {"X-N": str(i)}, b'{"n": %d}' % i)
        assert (answer.status, answer.body) == (200, b"ok")
    assert raw.connections == 1
    first = raw.requests[0]
    assert first.startswith(b"POST /hook?x=1 HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in first and b"\r\nX-N: 0\r\n" in first
    assert first.endswith(b'\r\n\r\n{"n": 0}')


async def test_the_host_header_names_the_server_when_connecting_to_its_address(serve) -> None:
    raw, url = await serve(lambda _: (OK, False))
    await lane().post(url, {}, b"{}", host_header="hooks.example.com")
    assert b"\r\nHost: hooks.example.com\r\n" in raw.requests[0]


async def test_chunked_answers_and_interim_ones(serve) -> None:
    chunked = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    raw, url = await serve(lambda n: (chunked if n == 1 else OK, False))
    client = lane()
    answer = await client.post(url, {}, b"{}")
    assert (answer.status, answer.body) == (500, b"hello world")
    assert (await client.post(url, {}, b"{}")).status == 200
    assert raw.connections == 1


async def test_a_big_answer_is_cut_and_its_connection_dropped(serve) -> None:
    big = b"HTTP/1.1 503 Busy\r\nContent-Length: 100000\r\nRetry-After: 30\r\n\r\n" + b"x" * 100000
    raw, url = await serve(lambda n: (big if n == 1 else OK, False))
    client = lane()
    answer = await client.post(url, {}, b"{}", max_body=10)
    assert (answer.status, answer.body, answer.headers["retry-after"]) == (503, b"x" * 10, "30")
    assert (await client.post(url, {}, b"{}")).status == 200
    assert raw.connections == 2


async def test_an_answer_ended_by_closing(serve) -> None:
    raw, url = await serve(lambda n: (b"HTTP/1.0 202 Accepted\r\n\r\nthanks", True))
    client = lane()
    answer = await client.post(url, {}, b"{}")
    assert (answer.status, answer.body) == (202, b"thanks")
    assert (await client.post(url, {}, b"{}")).status == 202
    assert raw.connections == 2


async def test_a_kept_connection_the_receiver_closed_is_replaced(serve) -> None:
    closing = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    # The receiver hangs up after every answer without saying so.
    raw, url = await serve(lambda _: (closing, True))
    client = lane()
    for n in range(1, 4):
        assert (await client.post(url, {}, b"{}")).status == 200
        # Gone before the next request: it goes out again on a new connection.
        await eventually(lambda n=n: raw.hung_up == n)
    assert len(raw.requests) == 3
    assert raw.connections == 3


async def test_garbage_is_a_protocol_error_and_a_silent_close_an_error(serve) -> None:
    _, garbage = await serve(lambda _: (b"SSH-2.0-OpenSSH\r\n\r\n", True))
    with pytest.raises(ProtocolError):
        await lane().post(garbage, {}, b"{}")
    _, silent = await serve(lambda _: (b"", True))
    with pytest.raises(ConnectionError):
        await lane().post(silent, {}, b"{}")


async def test_a_timeout_leaves_no_half_read_connection(serve) -> None:
    calls = []

    def slow_then_ok(n: int) -> tuple[bytes, bool]:
        calls.append(n)
        return (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfi" if n == 1 else OK), False

    raw, url = await serve(slow_then_ok)
    client = lane()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await client.post(url, {}, b"{}")
    answer = await client.post(url, {}, b"{}")
    assert (answer.status, answer.body) == (200, b"ok")
    assert raw.connections == 2


@pytest.fixture
def certificate(tmp_path) -> tuple[str, str]:
    """A self-signed certificate for hooks.test, and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=hooks.test", "-addext", "subjectAltName=DNS:hooks.test",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


async def test_https_checks_the_certificate_against_the_name_not_the_address(
    certificate: tuple[str, str],
) -> None:
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    raw = RawServer(lambda _: (OK, False))
    server = await asyncio.start_server(raw.serve, "127.0.0.1", 0, ssl=server_tls)
    port = server.sockets[0].getsockname()[1]
    trusting = ssl.create_default_context(cafile=cert)
    try:
        url = httpx.URL(f"https://127.0.0.1:{port}/hook")
        answer = await Lane(trusting).post(
            url, {}, b"{}", host_header="hooks.test", sni_hostname="hooks.test"
        )
        assert answer.status == 200
        assert b"\r\nHost: hooks.test\r\n" in raw.requests[0]
        # The same server under another name, or with no name at all, is refused.
        with pytest.raises(ssl.SSLCertVerificationError):
            await Lane(trusting).post(url, {}, b"{}", sni_hostname="other.test")
        with pytest.raises(ssl.SSLCertVerificationError):
            await Lane(trusting).post(url, {}, b"{}")
        assert len(raw.requests) == 1
    finally:
        server.close()
