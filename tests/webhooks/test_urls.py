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


# Addresses that are not globally routable, many of them IPv6 forms that carry an IPv4 address
# (judged by the address they carry, or refused as a whole where no receiver can be).
NOT_GLOBAL = [
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b:1::7f00:1",  # local-use NAT64
    "64:ff9b:1::808:808",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo, client 8.8.8.8
    "::127.0.0.1",  # IPv4-compatible
    "::8.8.8.8",
    "::ffff:0:7f00:1",  # IPv4-translated
    "::ffff:0:808:808",
    "::ffff:10.0.0.1",  # IPv4-mapped
    "fec0::1",  # site-local
    "fc00::1",  # unique-local
    "fd12:3456::1",
    "fe80::1",
    "100::1",  # discard-only
    "2001:db8::1",  # documentation
    "ff02::1",  # multicast
    "::",
    "::1",
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "192.0.0.170",
    "192.0.2.1",
    "192.88.99.1",  # the 6to4 relay anycast
    "198.18.0.1",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
]
GLOBAL = [
    "93.184.215.14",
    "2606:4700::1111",
    "64:ff9b::808:808",
    "2002:808:808::1",
    "::ffff:8.8.8.8",
]


def _url(address: str) -> str:
    return f"http://[{address}]/hook" if ":" in address else f"http://{address}/hook"


@pytest.mark.parametrize("address", NOT_GLOBAL)
def test_every_address_that_is_not_globally_routable_is_refused_when_set(address: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_url(_url(address), allow_private=False)


@pytest.mark.parametrize("address", GLOBAL)
def test_global_addresses_and_what_carries_them_pass(address: str) -> None:
    assert check_url(_url(address), allow_private=False)


@pytest.mark.parametrize("address", NOT_GLOBAL)
async def test_every_address_that_is_not_globally_routable_is_refused_when_called(
    address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL kept from before, and a name that resolves to the address, both at call time."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET

    async def fake_getaddrinfo(host: str, port: int, **_: object) -> list[tuple]:
        assert host == "hooks.example.com"
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(loop, "getaddrinfo", fake_getaddrinfo)
    resolver = Resolver(allow_private=False)
    with pytest.raises(UnsafeUrl):
        await resolver.target(_url(address))
    with pytest.raises(UnsafeUrl):
        await resolver.target("https://hooks.example.com/hook")


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


@pytest.mark.parametrize(
    "url", ["http://2130706433/hook", "http://0x7f000001/hook", "http://127.1/hook"]
)
async def test_other_spellings_of_an_internal_address_are_resolved_and_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        await Resolver(allow_private=False).target(url)
