"""Responses kept per key so that a repeated request gets the first answer and creates nothing.

The row is written in the same transaction as the messages it describes: if that transaction
fails, no answer is kept and a retry is processed afresh; if two identical requests race, the
second one's insert collides with the first one's row and it answers from that row instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.store.models import IdempotentResponse

responses = IdempotentResponse.__table__


@dataclass(frozen=True, slots=True)
class KeptResponse:
    request_hash: str
    code: str
    fields: dict[str, object]


async def find(
    conn: AsyncConnection, key_id: int, fingerprint: str, now_ms: int
) -> KeptResponse | None:
    row = (
        await conn.execute(
            select(responses.c.request_hash, responses.c.body).where(
                responses.c.key_id == key_id,
                responses.c.fingerprint == fingerprint,
                responses.c.expires_ms > now_ms,
            )
        )
    ).first()
    if row is None:
        return None
    kept = orjson.loads(row.body)
    return KeptResponse(row.request_hash, kept["code"], kept["fields"])


async def keep(
    conn: AsyncConnection,
    key_id: int,
    fingerprint: str,
    response: KeptResponse,
    http_status: int,
    now_ms: int,
    ttl_ms: int,
) -> None:
    """Remember the answer; raises IntegrityError if an identical request got there first."""
    # An expired answer under the same fingerprint gives way to the new one.
    await conn.execute(
        delete(responses).where(
            responses.c.key_id == key_id,
            responses.c.fingerprint == fingerprint,
            responses.c.expires_ms <= now_ms,
        )
    )
    await conn.execute(
        insert(responses).values(
            key_id=key_id,
            fingerprint=fingerprint,
            request_hash=response.request_hash,
            status_code=http_status,
            body=orjson.dumps({"code": response.code, "fields": response.fields}).decode(),
            expires_ms=now_ms + ttl_ms,
        )
    )


async def purge(conn: AsyncConnection, now_ms: int) -> int:
    result = await conn.execute(delete(responses).where(responses.c.expires_ms <= now_ms))
    return result.rowcount or 0
