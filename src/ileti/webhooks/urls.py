"""Where a webhook may point: http or https, and, unless the operator allows it, only globally
routable addresses, so that a customer cannot make the gateway call its own internal network.

An address passes only when it is global unicast: IPv4 outside the special-purpose blocks that
are not globally reachable (IANA's registry, the 6to4 relay anycast too), IPv6 inside 2000::/3
and outside its blocks of that kind. IPv6 forms that carry an IPv4 address are judged by that
address as well: IPv4-mapped (``::ffff:a.b.c.d``), NAT64 with the well-known prefix
(``64:ff9b::/96``) and 6to4 (``2002::/16``). Forms no receiver lives at are refused whatever
they carry: IPv4-compatible and IPv4-translated (in ``::/8``), local-use NAT64
(``64:ff9b:1::/48``), Teredo (``2001::/32``, in the IETF protocol block), site-local and
unique-local ranges.

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


class NotPublic(UnsafeUrl):
    """A receiver on this machine or on a network that is not globally routable: refused
    unless the operator allows private receivers."""


_V4_NOT_GLOBAL = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8",  # this network
        "10.0.0.0/8",
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # the 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
    )
)
_V6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_V6_NOT_GLOBAL = tuple(
    ipaddress.IPv6Network(block)
    for block in (
        "2001::/23",  # IETF protocol assignments: Teredo, benchmarking, ORCHID
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
    )
)
_V4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")


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
        raise NotPublic("a webhook URL may not point at this machine")
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
    if not _globally_routable(address):
        raise NotPublic(f"{address} is not a public address")


def _globally_routable(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv4Address):
        return not any(address in block for block in _V4_NOT_GLOBAL)
    if address.scope_id:
        return False
    carried = _carried_ipv4(address)
    if carried is not None:
        return _globally_routable(carried)
    return address in _V6_GLOBAL_UNICAST and not any(address in b for b in _V6_NOT_GLOBAL)


def _carried_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a connection to ``address`` reaches in the end, for the forms that
    carry one and are routed to it."""
    if address in _V4_MAPPED or address in _NAT64:
        return ipaddress.IPv4Address(address.packed[-4:])
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    return None


@dataclass(frozen=True, slots=True)
class Target:
    """Where to connect for a URL, and what to tell the server it was called as."""

    url: httpx.URL
    host_header: str | None
    sni_hostname: str | None


class Resolver:
    """Resolves and checks receiver hosts, remembering the answer for a short while."""

    # URLs whose targets are kept; past it, the oldest go.
    MAX_TARGETS = 4096

    def __init__(self, *, allow_private: bool, ttl: float = 30.0) -> None:
        self.allow_private = allow_private
        self.ttl = ttl
        self._cache: dict[tuple[str, int], tuple[float, str]] = {}
        # A URL's target until its name's address is looked up again: parsing the URL for
        # every event cost more than signing it.
        self._targets: dict[str, tuple[float, Target]] = {}

    async def target(self, url: str) -> Target:
        kept = self._targets.get(url)
        now = time.monotonic()
        if kept is not None and kept[0] > now:
            return kept[1]
        target = await self._target(url)
        if len(self._targets) >= self.MAX_TARGETS:
            del self._targets[next(iter(self._targets))]
        self._targets[url] = (now + self.ttl, target)
        return target

    async def _target(self, url: str) -> Target:
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
