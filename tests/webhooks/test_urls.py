"""Receivers on the gateway's own network are refused, when set and when called."""

from __future__ import annotations

import asyncio
import socket

import pytest

from ileti.webhooks.urls import Resolver, UnsafeUrl, check_url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.1/hook",
        "http://172.16.0.9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://user:pass@example.com/hook",
        "not a url",
    ],
)
def test_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_private=False)


def test_public_and_allowed_private() -> None:
    assert check_url("https://93.184.215.14/hook", allow_private=False).host == "93.184.215.14"
    assert check_url("https://example.com/hook", allow_private=False)
    assert check_url("http://127.0.0.1:9/hook", allow_private=True)
    with pytest.raises(UnsafeUrl):
        check_url("ftp://127.0.0.1/", allow_private=True)


async def test_a_name_resolving_to_an_internal_address_is_refused_at_call_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    answers = {"hooks.example.com": "10.0.0.5", "public.example.com": "93.184.215.14"}

    async def fake_getaddrinfo(host: str, port: int, **_: object) -> list[tuple]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(loop, "getaddrinfo", fake_getaddrinfo)
    resolver = Resolver(allow_private=False)
    with pytest.raises(UnsafeUrl):
        await resolver.target("https://hooks.example.com/hook")
    target = await resolver.target("https://public.example.com:8443/hook")
    # The connection goes to the checked address; the name travels in Host and SNI.
    assert target.url.host == "93.184.215.14"
    assert target.host_header == "public.example.com:8443"
    assert target.sni_hostname == "public.example.com"
