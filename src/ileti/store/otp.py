"""One-time passwords in the database: issuing, counting for the abuse limits, verifying,
templates, and the secret that keys the code hashes.

Verification changes a row only with a conditional ``UPDATE`` (live, not expired, attempts
left), so two verifications racing on one code cannot both succeed, on either database.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import and_, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.otp import DEFAULT_TEMPLATES, OtpLang
from ileti.store.models import Message, Otp, OtpTemplate, ServerSecret
from ileti.store.sql import among, is_postgres

otps = Otp.__table__
templates = OtpTemplate.__table__
server_secrets = ServerSecret.__table__
messages = Message.__table__

HOUR_MS = 3600 * 1000
SECRET_NAME = "otp_code_key"
# The first key of the advisory locks that serialise OTP issuing per account (the second is
# the account id): a number of our own, so no other user of the database takes the same lock.
OTP_LOCK_SPACE = 7001


class OtpStatus(StrEnum):
    LIVE = "live"
    VERIFIED = "verified"
    SPENT = "spent"  # every attempt used


@dataclass(frozen=True, slots=True)
class NewOtp:
    id: str
    account_id: int
    key_id: int
    message_id: int
    sentto: str
    region: str
    code_hash: str
    masked_text: str
    created_ms: int
    expires_ms: int
    attempts: int


async def add(conn: AsyncConnection, new: Sequence[NewOtp]) -> None:
    if not new:
        return
    await conn.execute(
        insert(otps),
        [
            {
                "id": o.id,
                "account_id": o.account_id,
                "key_id": o.key_id,
                "message_id": o.message_id,
                "sentto": o.sentto,
                "region": o.region,
                "code_hash": o.code_hash,
                "masked_text": o.masked_text,
                "created_ms": o.created_ms,
                "expires_ms": o.expires_ms,
                "attempts_left": o.attempts,
                "status": OtpStatus.LIVE.value,
            }
            for o in new
        ],
    )


# The abuse limits.


async def lock_accounts(conn: AsyncConnection, account_ids: Collection[int]) -> None:
    """Serialise OTP issuing per account on PostgreSQL, so that two transactions cannot both
    count the same room under a limit (SQLite's writes are serial already)."""
    if not is_postgres(conn):
        return
    for account_id in sorted(account_ids):
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, :id)"),
            {"space": OTP_LOCK_SPACE, "id": account_id},
        )


@dataclass(frozen=True, slots=True)
class RecentOtps:
    """OTPs issued in the past hour: per (account, number) and per (account, region), with the
    time of the oldest of each (for ``Retry-After``)."""

    per_number: dict[tuple[int, str], tuple[int, int]]
    per_region: dict[tuple[int, str], tuple[int, int]]


async def recent(
    conn: AsyncConnection,
    numbers: Collection[tuple[int, str]],
    regions: Collection[tuple[int, str]],
    now_ms: int,
) -> RecentOtps:
    since = now_ms - HOUR_MS

    async def count(column: str, wanted: Collection[tuple[int, str]]) -> dict:
        if not wanted:
            return {}
        col = otps.c[column]
        rows = await conn.execute(
            select(otps.c.account_id, col, func.count(), func.min(otps.c.created_ms))
            .where(
                otps.c.created_ms > since,
                or_(*(and_(otps.c.account_id == a, col == b) for a, b in sorted(wanted))),
            )
            .group_by(otps.c.account_id, col)
        )
        return {(row[0], row[1]): (row[2], row[3]) for row in rows}

    return RecentOtps(await count("sentto", numbers), await count("region", regions))


# Verifying.


@dataclass(frozen=True, slots=True)
class OtpView:
    id: str
    account_id: int
    key_id: int
    message_id: int
    sentto: str
    code_hash: str
    expires_ms: int
    attempts_left: int
    status: str

    def usable(self, now_ms: int) -> bool:
        return (
            self.status == OtpStatus.LIVE.value
            and now_ms < self.expires_ms
            and self.attempts_left > 0
        )


_VIEW = select(
    otps.c.id,
    otps.c.account_id,
    otps.c.key_id,
    otps.c.message_id,
    otps.c.sentto,
    otps.c.code_hash,
    otps.c.expires_ms,
    otps.c.attempts_left,
    otps.c.status,
)


async def find(conn: AsyncConnection, account_id: int, otp_id: str) -> OtpView | None:
    """The account's OTP of that id; another account's is as absent as an unknown one."""
    row = (
        await conn.execute(_VIEW.where(otps.c.id == otp_id, otps.c.account_id == account_id))
    ).first()
    return OtpView(*row) if row else None


async def latest(
    conn: AsyncConnection, account_id: int, sentto: str, now_ms: int
) -> OtpView | None:
    """The number's latest OTP that can still be verified, else its latest of all."""
    recent_first = _VIEW.where(otps.c.account_id == account_id, otps.c.sentto == sentto).order_by(
        otps.c.created_ms.desc()
    )
    live = (
        await conn.execute(
            recent_first.where(
                otps.c.status == OtpStatus.LIVE.value,
                otps.c.expires_ms > now_ms,
                otps.c.attempts_left > 0,
            ).limit(1)
        )
    ).first()
    if live:
        return OtpView(*live)
    row = (await conn.execute(recent_first.limit(1))).first()
    return OtpView(*row) if row else None


async def mark_verified(conn: AsyncConnection, otp_id: str, now_ms: int) -> bool:
    """True if this call verified it (it was live, unexpired, with attempts left)."""
    result = await conn.execute(
        _usable(update(otps), otp_id, now_ms).values(
            status=OtpStatus.VERIFIED.value, verified_ms=now_ms
        )
    )
    return result.rowcount == 1


async def use_attempt(conn: AsyncConnection, otp_id: str, now_ms: int) -> int | None:
    """Spend one attempt on a wrong code; the attempts left, or None if it was not usable."""
    row = (
        await conn.execute(
            _usable(update(otps), otp_id, now_ms)
            .values(attempts_left=otps.c.attempts_left - 1)
            .returning(otps.c.attempts_left)
        )
    ).first()
    if row is None:
        return None
    if row[0] == 0:
        await conn.execute(
            update(otps).where(otps.c.id == otp_id).values(status=OtpStatus.SPENT.value)
        )
    return row[0]


def _usable(stmt, otp_id: str, now_ms: int):  # type: ignore[no-untyped-def]
    return stmt.where(
        otps.c.id == otp_id,
        otps.c.status == OtpStatus.LIVE.value,
        otps.c.expires_ms > now_ms,
        otps.c.attempts_left > 0,
    )


async def redact(conn: AsyncConnection, message_ids: Sequence[int]) -> None:
    """Put the masked text in place of the sent one: once an OTP's message has left, the
    database keeps its code only as a hash."""
    if not message_ids:
        return
    masked = select(otps.c.masked_text).where(otps.c.message_id == messages.c.id).scalar_subquery()
    await conn.execute(
        update(messages)
        .where(among(conn, messages.c.id, message_ids), messages.c.kind == "otp")
        .values(text=masked)
    )


# Templates.


async def template(conn: AsyncConnection, lang: OtpLang) -> str:
    row = (await conn.execute(select(templates.c.text).where(templates.c.lang == lang))).first()
    return row[0] if row else DEFAULT_TEMPLATES[lang]


async def all_templates(conn: AsyncConnection) -> dict[OtpLang, tuple[str, bool]]:
    """Each language's template, and whether the operator changed it."""
    changed = {OtpLang(row[0]): row[1] for row in await conn.execute(select(templates))}
    return {lang: (changed.get(lang, DEFAULT_TEMPLATES[lang]), lang in changed) for lang in OtpLang}


async def set_template(conn: AsyncConnection, lang: OtpLang, text_: str) -> None:
    updated = await conn.execute(
        update(templates).where(templates.c.lang == lang).values(text=text_)
    )
    if updated.rowcount == 0:
        await conn.execute(insert(templates).values(lang=int(lang), text=text_))


async def reset_template(conn: AsyncConnection, lang: OtpLang) -> None:
    await conn.execute(templates.delete().where(templates.c.lang == lang))


# The code-hash secret.


async def code_key(conn: AsyncConnection) -> bytes:
    """The installation's secret for code hashes, made on first use and shared by every
    process through the database (``ILETI_OTP_SECRET`` overrides it)."""
    query = select(server_secrets.c.value).where(server_secrets.c.name == SECRET_NAME)
    value = (await conn.execute(query)).scalar()
    if value is None:
        dialect_insert = pg_insert if is_postgres(conn) else sqlite_insert
        # Another process may make it at the same moment: the first one stays.
        await conn.execute(
            dialect_insert(server_secrets)
            .values(name=SECRET_NAME, value=secrets.token_hex(32))
            .on_conflict_do_nothing(index_elements=["name"])
        )
        value = (await conn.execute(query)).scalar_one()
    return bytes.fromhex(value)
