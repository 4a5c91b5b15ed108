"""API keys: stored only as a SHA-256 hash, found by their public prefix (``domain.keys``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.errors import NotFound
from ileti.domain.keys import (
    PREFIX_LENGTH,
    hash_key,
    key_matches,
    new_key,
    normalise_networks,
    prefix_of,
)
from ileti.domain.permissions import GRANTED_BY_DEFAULT, Permission
from ileti.store.sql import Raw, Row, json_text, json_value, maybe_moment, moment


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


_PERMISSIONS = ", ".join(f"k.{p.value}" for p in Permission)
# A reseller's suspension holds its customers too: a child is as active as its parent.
_RECORD = (
    "SELECT k.id, k.prefix, k.key_hash, k.account_id,"
    " CASE WHEN p.status IS NULL OR p.status = 'active' THEN a.status ELSE p.status END"
    " AS account_status,"
    f" k.api_enabled, {_PERMISSIONS}, k.allowed_ips, k.per_minute, k.created_at, k.revoked_at,"
    # What the account spends: a shared-balance child spends its parent's.
    " CASE WHEN a.shared_balance AND p.id IS NOT NULL THEN p.credits ELSE a.credits END"
    " AS credits, CASE WHEN a.shared_balance AND p.id IS NOT NULL THEN p.international_kurus"
    " ELSE a.international_kurus END AS international_kurus"
    " FROM api_keys AS k JOIN accounts AS a ON a.id = k.account_id"
    " LEFT JOIN accounts AS p ON p.id = a.parent_id"
)
_BY_PREFIX = Raw(_RECORD + " WHERE k.prefix = $1")
_OF_ACCOUNT = Raw(_RECORD + " WHERE k.account_id = $1 AND k.kind = 'api' ORDER BY k.id")
_ONE_OF_ACCOUNT = Raw(_RECORD + " WHERE k.id = $1 AND k.account_id = $2 AND k.kind = 'api'")
_PANEL_KEY = Raw("SELECT id FROM api_keys WHERE account_id = $1 AND kind = 'panel'")
# The panel's key has no secret: its hash is empty, which no key's hash ever is.
_CREATE_PANEL_KEY = Raw(
    "INSERT INTO api_keys (account_id, prefix, key_hash, kind, api_enabled, allowed_ips,"
    f" created_at, {', '.join(p.value for p in Permission)})"
    " VALUES ($1, $2, '', 'panel', FALSE, '[]', $3, "
    + ", ".join("TRUE" if p in GRANTED_BY_DEFAULT else "FALSE" for p in Permission)
    + ")"
)
_CREATE = Raw(
    "INSERT INTO api_keys (account_id, prefix, key_hash, api_enabled, allowed_ips, per_minute,"
    f" created_at, {', '.join(p.value for p in Permission)})"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, "
    + ", ".join(f"${n}" for n in range(8, 8 + len(Permission)))
    + ")"
)
_PARENT = Raw("SELECT parent_id FROM accounts WHERE id = $1")
_REVOKE = Raw("UPDATE api_keys SET revoked_at = $2 WHERE id = $1")
_SET_API_ENABLED = Raw("UPDATE api_keys SET api_enabled = $2 WHERE id = $1")


def _record(row: Row) -> KeyRecord:
    return KeyRecord(
        id=row["id"],
        prefix=row["prefix"],
        key_hash=row["key_hash"],
        account_id=row["account_id"],
        account_status=row["account_status"],
        api_enabled=bool(row["api_enabled"]),
        permissions=frozenset(p for p in Permission if row[p.value]),
        allowed_ips=tuple(json_value(row["allowed_ips"]) or ()),
        per_minute=row["per_minute"],
        created_at=moment(row["created_at"]),
        revoked_at=maybe_moment(row["revoked_at"]),
        credits=row["credits"],
        international_kurus=row["international_kurus"],
    )


async def create_key(
    conn: AsyncConnection,
    account_id: int,
    now: datetime,
    *,
    deny: set[Permission] | None = None,
    allow: set[Permission] | None = None,
    allow_ips: list[str] | None = None,
    per_minute: int | None = None,
) -> tuple[str, KeyRecord]:
    """A new key; the plain key is returned here and is never recoverable afterwards. It holds
    the permissions granted by default and those in ``allow``, less those in ``deny``."""
    if per_minute is not None and per_minute < 0:
        raise ValueError("per-minute limit cannot be negative")
    granted = (GRANTED_BY_DEFAULT | (allow or set())) - (deny or set())
    if Permission.MANAGE_SUBACCOUNTS in granted:
        row = await _PARENT.first(conn, account_id)
        if row is not None and row["parent_id"] is not None:
            # One level: a reseller's customer has no customers of its own.
            raise ValueError("a child account's key cannot manage subaccounts")
    key = new_key()
    await _CREATE.run(
        conn,
        account_id,
        key[:PREFIX_LENGTH],
        hash_key(key),
        True,
        json_text(normalise_networks(allow_ips or [])),
        per_minute,
        now,
        *(p in granted for p in Permission),
    )
    record = await find_key(conn, key[:PREFIX_LENGTH])
    return key, record


async def find_key(conn: AsyncConnection, key_or_prefix: str) -> KeyRecord:
    """The key named by its full text or its prefix; a full key must also match its hash."""
    prefix = prefix_of(key_or_prefix)
    if prefix is None:
        raise NotFound("no such key")
    row = await _BY_PREFIX.first(conn, prefix)
    if row is None:
        raise NotFound("no such key")
    record = _record(row)
    if len(key_or_prefix) > PREFIX_LENGTH and not key_matches(key_or_prefix, record.key_hash):
        raise NotFound("no such key")
    return record


async def list_keys(conn: AsyncConnection, account_id: int) -> list[KeyRecord]:
    return [_record(row) for row in await _OF_ACCOUNT.rows(conn, account_id)]


async def key_of_account(conn: AsyncConnection, account_id: int, key_id: int) -> KeyRecord:
    """A key of the account by its id: another account's key, or its panel key, is not found,
    exactly as a missing one."""
    row = await _ONE_OF_ACCOUNT.first(conn, key_id, account_id)
    if row is None:
        raise NotFound("no such key")
    return _record(row)


async def panel_key(conn: AsyncConnection, account_id: int, now: datetime) -> int:
    """The id of the key the account's panel sends are recorded under, made on first use.

    Its prefix cannot be a key's (``domain.keys``), so no request can present it."""
    row = await _PANEL_KEY.first(conn, account_id)
    if row is None:
        await _CREATE_PANEL_KEY.run(conn, account_id, f"panel:{account_id}", now)
        row = await _PANEL_KEY.first(conn, account_id)
        assert row is not None
    return int(row["id"])


async def revoke_key(conn: AsyncConnection, key_or_prefix: str, now: datetime) -> KeyRecord:
    record = await find_key(conn, key_or_prefix)
    if not record.revoked:
        await _REVOKE.run(conn, record.id, now)
    return await find_key(conn, record.prefix)


async def set_api_enabled(conn: AsyncConnection, key_or_prefix: str, enabled: bool) -> None:
    record = await find_key(conn, key_or_prefix)
    await _SET_API_ENABLED.run(conn, record.id, enabled)
