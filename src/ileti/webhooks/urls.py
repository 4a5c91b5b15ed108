"""Where a webhook may point: http or https, and, unless the operator allows it, only public
addresses, so that a customer cannot make the gateway call its own internal network.

The URL is checked when it is set and again when it is called: a name is resolved at call time
and the connection goes to the address that was checked (the name still travels in ``Host``
and, for https, in SNI and the certificate check), so a name cannot be rebound to an internal
address between the check and the call.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(ValueError):
    """A receiver URL the gateway will not call."""


def check_url(url: str, *, allow_private: bool) -> httpx.URL:
    """The parsed URL if its form is acceptable and any literal address in it is allowed."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeUrl(f"not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise UnsafeUrl("a webhook URL is http or https")
    if not parsed.host:
        raise UnsafeUrl("a webhook URL names a host")
    if parsed.userinfo:
        raise UnsafeUrl("a webhook URL carries no user name or password")
    if allow_private:
        return parsed
    if parsed.host.lower() == "localhost" or parsed.host.lower().endswith(".localhost"):
        raise UnsafeUrl("a webhook URL may not point at this machine")
    literal = _literal(parsed.host)
    if literal is not None:
        _check_address(literal)
    return parsed


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _check_address(address: IPAddress) -> None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global or address.is_multicast:
        raise UnsafeUrl(f"{address} is not a public address")


@dataclass(frozen=True, slots=True)
class Target:
    """Where to connect for a URL, and what to tell the server it was called as."""

    url: httpx.URL
    host_header: str | None
    sni_hostname: str | None


class Resolver:
    """Resolves and checks receiver hosts, remembering the answer for a short while."""

    def __init__(self, *, allow_private: bool, ttl: float = 30.0) -> None:
        self.allow_private = allow_private
        self.ttl = ttl
        self._cache: dict[tuple[str, int], tuple[float, str]] = {}

    async def target(self, url: str) -> Target:
        parsed = check_url(url, allow_private=self.allow_private)
        if self.allow_private or _literal(parsed.host) is not None:
            return Target(parsed, None, None)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        address = await self._address(parsed.host, port)
        host_header = parsed.host if parsed.port is None else f"{parsed.host}:{parsed.port}"
        return Target(
            parsed.copy_with(host=address),
            host_header,
            parsed.host if parsed.scheme == "https" else None,
        )

    async def _address(self, host: str, port: int) -> str:
        cached = self._cache.get((host, port))
        now = time.monotonic()
        if cached and cached[0] > now:
            return cached[1]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise UnsafeUrl(f"cannot resolve {host}: {exc}") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not addresses:
            raise UnsafeUrl(f"{host} has no address")
        # Every address must be public: a name with one internal address is refused.
        for address in addresses:
            _check_address(address)
        chosen = str(addresses[0])
        self._cache[(host, port)] = (now + self.ttl, chosen)
        return chosen
