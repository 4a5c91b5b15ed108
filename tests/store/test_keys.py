"""Keys are stored only as hashes and are found by prefix plus a matching hash."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ileti.domain.clock import utcnow
from ileti.domain.errors import NotFound
from ileti.domain.keys import PREFIX_LENGTH, hash_key
from ileti.domain.permissions import Permission
from ileti.store import accounts, keys
from ileti.store.db import Database
from ileti.store.models import ApiKey


async def test_key_is_stored_only_as_hash(db: Database) -> None:
    async with db.write() as conn:
        account = await accounts.create_account(conn, "acme", utcnow())
        key, record = await keys.create_key(conn, account.id, utcnow(), deny={Permission.SEND_OTP})
    table = ApiKey.__table__
    async with db.read() as conn:
        stored = (await conn.execute(select(table))).one()._asdict()
    assert key not in {str(v) for v in stored.values()}
    assert key.split("_", 2)[2] not in str(stored)
    assert stored["key_hash"] == hash_key(key)
    assert record.prefix == key[:PREFIX_LENGTH]
    assert Permission.SEND_OTP not in record.permissions
    assert len(record.permissions) == 4


async def test_find_by_full_key_or_prefix_but_not_by_wrong_secret(db: Database) -> None:
    async with db.write() as conn:
        account = await accounts.create_account(conn, "acme", utcnow())
        key, record = await keys.create_key(conn, account.id, utcnow())
    forged = record.prefix + "_" + "A" * 43
    async with db.read() as conn:
        assert (await keys.find_key(conn, key)).id == record.id
        assert (await keys.find_key(conn, record.prefix)).id == record.id
        for bad in (forged, "", "x" * 1000, "ilt_ünïcödé", key + "x"):
            with pytest.raises(NotFound):
                await keys.find_key(conn, bad)


async def test_revoke_by_prefix_keeps_the_row(db: Database) -> None:
    async with db.write() as conn:
        account = await accounts.create_account(conn, "acme", utcnow())
        _, record = await keys.create_key(
            conn, account.id, utcnow(), allow_ips=["10.0.0.0/8", "::1"]
        )
        revoked = await keys.revoke_key(conn, record.prefix, utcnow())
    assert revoked.revoked
    assert revoked.allowed_ips == ("10.0.0.0/8", "::1/128")
    async with db.read() as conn:
        assert [k.revoked for k in await keys.list_keys(conn, account.id)] == [True]
