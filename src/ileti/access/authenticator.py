"""Who is calling, and may they: the one place every endpoint authenticates through.

Verified keys are cached for ``key_cache_seconds`` (1 s by default) so that a busy key costs a
dictionary lookup, while a revocation, a disabled key or a suspended account is seen within that
second. Unknown keys are cached as unknown for the same time, so a flood of bad keys cannot turn
into a flood of queries. The cached record carries the account's balances as read with it,
which is what ``/auth/check`` reports: at most that second old (``/balance`` reads them now).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from ileti import codes
from ileti.access.ratelimit import RequestLimiter
from ileti.codes import GatewayError
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.errors import NotFound
from ileti.domain.keys import hash_key, prefix_of
from ileti.domain.permissions import Permission
from ileti.store.db import Database
from ileti.store.keys import KeyRecord, find_key
from ileti.validation import quoted

_MAX_CACHED = 50_000

Network = IPv4Network | IPv6Network


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated key, ready for the endpoint."""

    key: KeyRecord
    networks: tuple[Network, ...]

    @property
    def account_id(self) -> int:
        return self.key.account_id

    @property
    def key_id(self) -> int:
        return self.key.id


class Authenticator:
    def __init__(
        self,
        db: Database,
        limiter: RequestLimiter,
        *,
        default_per_minute: int,
        cache_seconds: float = 1.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.db = db
        self.limiter = limiter
        self.default_per_minute = default_per_minute
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cache: dict[str, tuple[float, Caller | None]] = {}
        # Loads in flight: when a busy key's entry lapses, its concurrent requests share one
        # query instead of each taking a connection (which overflows the pool).
        self._loading: dict[str, asyncio.Task[Caller | None]] = {}

    async def authenticate(
        self, key: str | None, client_ip: str | None, permission: Permission | None
    ) -> Caller:
        if not key:
            raise GatewayError(codes.INVALID_KEY, "API key is missing.")
        caller = await self._lookup(key)
        if caller is None or caller.key.revoked:
            raise GatewayError(codes.INVALID_KEY)
        record = caller.key
        if record.account_status != "active":
            raise GatewayError(codes.ACCOUNT_INACTIVE)
        if not record.api_enabled:
            raise GatewayError(codes.API_DISABLED)
        if caller.networks and not _allowed(client_ip, caller.networks):
            raise GatewayError(
                codes.IP_NOT_ALLOWED,
                f"Caller IP address {quoted(client_ip, 64)} is not in the key's allowlist."
                if client_ip
                else "Caller IP address is unknown, so it is not in the key's allowlist.",
            )
        per_minute = self.default_per_minute if record.per_minute is None else record.per_minute
        if per_minute > 0:
            retry_after = await self.limiter.hit(record.id, per_minute)
            if retry_after is not None:
                raise GatewayError(
                    codes.RATE_LIMITED,
                    f"Per-minute rate limit of {per_minute} requests exceeded.",
                    headers={"Retry-After": str(int(retry_after))},
                )
        if permission is not None and permission not in record.permissions:
            raise GatewayError(
                codes.PERMISSION_DENIED, f"This key lacks the {permission.value} permission."
            )
        return caller

    async def _lookup(self, key: str) -> Caller | None:
        if prefix_of(key) is None:
            return None
        digest = hash_key(key)
        now = self.clock.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        loading = self._loading.get(digest)
        if loading is None:
            # A task of its own: a caller that goes away does not cancel the others' answer.
            loading = self._loading[digest] = asyncio.ensure_future(
                self._load_into_cache(key, digest)
            )
            loading.add_done_callback(_forget_failure)
        return await asyncio.shield(loading)

    async def _load_into_cache(self, key: str, digest: str) -> Caller | None:
        try:
            caller = await self._load(key)
        finally:
            del self._loading[digest]
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()
        self._cache[digest] = (self.clock.monotonic() + self.cache_seconds, caller)
        return caller

    async def _load(self, key: str) -> Caller | None:
        async with self.db.read() as conn:
            try:
                record = await find_key(conn, key)
            except NotFound:
                return None
        networks = tuple(ip_network(cidr, strict=False) for cidr in record.allowed_ips)
        return Caller(record, networks)


def _forget_failure(task: asyncio.Task[Caller | None]) -> None:
    # Every waiter got the failure; one whose caller left must not be logged as unretrieved.
    if not task.cancelled():
        task.exception()


def _allowed(client_ip: str | None, networks: tuple[Network, ...]) -> bool:
    address = address_of(client_ip)
    return address is not None and any(address in network for network in networks)


def trusted_networks(listed: str) -> tuple[Network, ...]:
    """``ILETI_TRUSTED_PROXIES``: addresses or networks, separated by commas."""
    networks = []
    for item in listed.split(","):
        if item.strip():
            try:
                networks.append(ip_network(item.strip(), strict=False))
            except ValueError:
                raise ValueError(
                    f"ILETI_TRUSTED_PROXIES: {quoted(item.strip(), 64)} is neither an address "
                    "nor a network (write 10.0.0.5 or 10.0.0.0/8, separated by commas)"
                ) from None
    return tuple(networks)


def within(address: str | None, networks: tuple[Network, ...]) -> bool:
    """Whether ``address`` (as a socket or a header gives it) is in one of ``networks``."""
    parsed = address_of(address)
    return parsed is not None and any(parsed in network for network in networks)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], proxies: tuple[Network, ...]
) -> str | None:
    """Who is calling: the peer, unless it is a trusted proxy; then the rightmost address of
    ``X-Forwarded-For`` that is not one (each proxy appends the address it saw, and only the
    entries our own proxies appended can be believed; whatever is left of them, a client may
    have written). An entry that is not an address ends the walk: that is the caller, and no
    allowlist holds it."""
    if peer is None or not within(peer, proxies):
        return peer
    caller = peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        if not hop:
            continue
        address = address_of(hop)
        caller = hop if address is None else str(address)
        if address is None or not any(address in network for network in proxies):
            break
    return caller


def address_of(text: str | None) -> IPv4Address | IPv6Address | None:
    """An address as a socket or a proxy writes it (``1.2.3.4``, ``1.2.3.4:5678``,
    ``[2001:db8::1]:443``, an IPv4-mapped IPv6 address), or None."""
    if not text:
        return None
    try:
        address = ip_address(text)
    except ValueError:
        host = text
        if text.startswith("["):
            host = text[1:].partition("]")[0]
        elif text.count(":") == 1:
            host = text.partition(":")[0]
        try:
            address = ip_address(host)
        except ValueError:
            return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
