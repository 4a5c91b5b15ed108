"""API keys: generated once, stored only as a SHA-256 hash, found by their public prefix.

A key looks like ``ilt_<10 hex>_<43 url-safe characters>``. The first 14 characters are the
prefix that ``ileti key list`` shows and that the lookup uses; the secret part carries 256 bits,
so a plain (unsalted) SHA-256 is enough and keeps the check cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from ipaddress import ip_network

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.permissions import Permission
from ileti.store.accounts import NotFound
from ileti.store.models import Account, ApiKey, utcnow

api_keys = ApiKey.__table__
accounts = Account.__table__

KEY_PREFIX = "ilt_"
PREFIX_LENGTH = len(KEY_PREFIX) + 10
# Longer input cannot be a key; refuse it before hashing anything.
MAX_KEY_LENGTH = 64


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def prefix_of(key: str) -> str | None:
    """The lookup prefix of a well-formed key (or of a bare prefix), else None."""
    if len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.startswith(KEY_PREFIX):
        return None
    prefix = key[:PREFIX_LENGTH]
    if len(prefix) != PREFIX_LENGTH:
        return None
    if len(key) > PREFIX_LENGTH and key[PREFIX_LENGTH] != "_":
        return None
    return prefix


def new_key() -> str:
    return f"{KEY_PREFIX}{secrets.token_hex(5)}_{secrets.token_urlsafe(32)}"


def key_matches(key: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), key_hash)


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key together with what authentication needs of its account."""

    id: int
    prefix: str
    key_hash: str
    account_id: int
    account_status: str
    api_enabled: bool
    permissions: frozenset[Permission]
    allowed_ips: tuple[str, ...]
    per_minute: int | None
    created_at: datetime
    revoked_at: datetime | None
    # The account's balances when the record was read.
    credits: int
    international_kurus: int

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


_PERMISSION_COLUMNS = [api_keys.c[p.value] for p in Permission]

_RECORD_QUERY = select(
    api_keys.c.id,
    api_keys.c.prefix,
    api_keys.c.key_hash,
    api_keys.c.account_id,
    accounts.c.status,
    api_keys.c.api_enabled,
    *_PERMISSION_COLUMNS,
    api_keys.c.allowed_ips,
    api_keys.c.per_minute,
    api_keys.c.created_at,
    api_keys.c.revoked_at,
    accounts.c.credits,
    accounts.c.international_kurus,
).join(accounts, accounts.c.id == api_keys.c.account_id)


def _record(row: object) -> KeyRecord:
    values = tuple(row)  # type: ignore[call-overload]
    flags = values[6 : 6 + len(Permission)]
    rest = values[6 + len(Permission) :]
    return KeyRecord(
        id=values[0],
        prefix=values[1],
        key_hash=values[2],
        account_id=values[3],
        account_status=values[4],
        api_enabled=values[5],
        permissions=frozenset(p for p, on in zip(Permission, flags, strict=True) if on),
        allowed_ips=tuple(rest[0] or ()),
        per_minute=rest[1],
        created_at=rest[2],
        revoked_at=rest[3],
        credits=rest[4],
        international_kurus=rest[5],
    )


def normalise_cidrs(cidrs: list[str]) -> list[str]:
    """Canonical networks; a host address becomes a /32 or /128. Raises ValueError."""
    return [str(ip_network(cidr.strip(), strict=False)) for cidr in cidrs]


async def create_key(
    conn: AsyncConnection,
    account_id: int,
    *,
    deny: set[Permission] | None = None,
    allow_ips: list[str] | None = None,
    per_minute: int | None = None,
) -> tuple[str, KeyRecord]:
    """A new key; the plain key is returned here and is never recoverable afterwards."""
    if per_minute is not None and per_minute < 0:
        raise ValueError("per-minute limit cannot be negative")
    deny = deny or set()
    key = new_key()
    values: dict[str, object] = {
        "account_id": account_id,
        "prefix": key[:PREFIX_LENGTH],
        "key_hash": hash_key(key),
        "api_enabled": True,
        "allowed_ips": normalise_cidrs(allow_ips or []),
        "per_minute": per_minute,
        "created_at": utcnow(),
    }
    values.update({p.value: p not in deny for p in Permission})
    await conn.execute(insert(api_keys).values(**values))
    record = await find_key(conn, key[:PREFIX_LENGTH])
    return key, record


async def find_key(conn: AsyncConnection, key_or_prefix: str) -> KeyRecord:
    """The key named by its full text or its prefix; a full key must also match its hash."""
    prefix = prefix_of(key_or_prefix)
    if prefix is None:
        raise NotFound("no such key")
    row = (await conn.execute(_RECORD_QUERY.where(api_keys.c.prefix == prefix))).first()
    if row is None:
        raise NotFound("no such key")
    record = _record(row)
    if len(key_or_prefix) > PREFIX_LENGTH and not key_matches(key_or_prefix, record.key_hash):
        raise NotFound("no such key")
    return record


async def list_keys(conn: AsyncConnection, account_id: int) -> list[KeyRecord]:
    rows = await conn.execute(
        _RECORD_QUERY.where(api_keys.c.account_id == account_id).order_by(api_keys.c.id)
    )
    return [_record(row) for row in rows]


async def revoke_key(conn: AsyncConnection, key_or_prefix: str) -> KeyRecord:
    record = await find_key(conn, key_or_prefix)
    if not record.revoked:
        await conn.execute(
            update(api_keys).where(api_keys.c.id == record.id).values(revoked_at=utcnow())
        )
    return await find_key(conn, record.prefix)


async def set_api_enabled(conn: AsyncConnection, key_or_prefix: str, enabled: bool) -> None:
    record = await find_key(conn, key_or_prefix)
    await conn.execute(
        update(api_keys).where(api_keys.c.id == record.id).values(api_enabled=enabled)
    )
