"""Who is calling, and may they: the one place every endpoint authenticates through.

Verified keys are cached for ``key_cache_seconds`` (1 s by default) so that a busy key costs a
dictionary lookup, while a revocation, a disabled key or a suspended account is seen within that
second. Unknown keys are cached as unknown for the same time, so a flood of bad keys cannot turn
into a flood of queries. The cached record carries the account's balances as read with it,
which is what ``/auth/check`` reports: at most that second old (``/balance`` reads them now).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from ileti import codes
from ileti.access.ratelimit import RequestLimiter
from ileti.codes import GatewayError
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.errors import NotFound
from ileti.domain.keys import hash_key, prefix_of
from ileti.domain.permissions import Permission
from ileti.store.db import Database
from ileti.store.keys import KeyRecord, find_key

_MAX_CACHED = 50_000


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated key, ready for the endpoint."""

    key: KeyRecord
    networks: tuple[IPv4Network | IPv6Network, ...]

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
            raise GatewayError(codes.IP_NOT_ALLOWED)
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


def _allowed(client_ip: str | None, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    if client_ip is None:
        return False
    try:
        address = ip_address(client_ip)
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)
