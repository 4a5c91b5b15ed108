"""Responses kept per key so that a repeated request gets the first answer and creates nothing.

The row is written in the same transaction as the messages it describes: if that transaction
fails, no answer is kept and a retry is processed afresh; if two identical requests race, the
second one's insert collides with the first one's row and it answers from that row instead.
Only accepted requests are kept: a refusal changed nothing, so a repeat is simply checked again.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.store.models import IdempotentResponse, table_of
from ileti.store.sql import POSTGRES_ONLY, Insert, Raw, columns_of


@dataclass(frozen=True, slots=True)
class KeptResponse:
    request_hash: str
    code: str
    fields: dict[str, object]


# By the whole primary key, pair by pair: one probe of it per pair (``LIMIT 1`` keeps each a
# probe: a pair has one row at most, and a join would let the planner read the whole table).
# Given as two lists, PostgreSQL took the key alone to the index and filtered every live answer
# of that key by fingerprint: a send batch walked all the answers its key kept in the last two
# minutes (13,000 rows, 3 ms, ten seconds into a load), more the longer it ran. SQLite's text
# looks both lists up in its index.
_COLUMNS = "key_id, fingerprint, request_hash, body"
_PAIRS = "unnest($1::int[], $2::text[]) AS w(key_id, fingerprint)"
_PROBE = " WHERE key_id = w.key_id AND fingerprint = w.fingerprint AND expires_ms {} $3 LIMIT 1"
_FIND = Raw(
    f"SELECT i.* FROM {_PAIRS} CROSS JOIN LATERAL"
    f" (SELECT {_COLUMNS} FROM idempotency{_PROBE.format('>')}) AS i",
    sqlite=f"SELECT {_COLUMNS} FROM idempotency"
    " WHERE key_id = ANY($1) AND fingerprint = ANY($2) AND expires_ms > $3",
)
_FIND_ONE = Raw(
    f"SELECT {_COLUMNS} FROM idempotency WHERE key_id = $1 AND fingerprint = $2 AND expires_ms > $3"
)
# SQLite's: PostgreSQL writes over an expired answer as it keeps the new one.
_FORGET_EXPIRED = Raw(
    "DELETE FROM idempotency WHERE key_id = ANY($1) AND fingerprint = ANY($2) AND expires_ms <= $3",
)
_FORGET_EXPIRED_ONE = Raw(
    "DELETE FROM idempotency WHERE key_id = $1 AND fingerprint = $2 AND expires_ms <= $3"
)
_PURGE = Raw("DELETE FROM idempotency WHERE expires_ms <= $1")
_KEEP = Insert(
    table_of(IdempotentResponse),
    ("key_id", "fingerprint", "request_hash", "status_code", "body", "expires_ms"),
)
# PostgreSQL in one round trip: an expired answer under the same fingerprint is written over,
# a live one is left and its row not counted (the caller tells a collision by the count).
_KEEP_OVER_EXPIRED = Raw(
    f"{_KEEP.postgres} ON CONFLICT (key_id, fingerprint) DO UPDATE SET"
    " request_hash = excluded.request_hash, status_code = excluded.status_code,"
    " body = excluded.body, expires_ms = excluded.expires_ms"
    " WHERE idempotency.expires_ms <= $7",
    sqlite=POSTGRES_ONLY,
)
_LIVE_ALREADY = RuntimeError("an identical request's answer is kept already")


async def find_many(
    conn: AsyncConnection, identities: list[tuple[int, str]], now_ms: int
) -> dict[tuple[int, str], KeptResponse]:
    """The live kept responses among (key id, fingerprint) pairs."""
    if not identities:
        return {}
    wanted = set(identities)
    if len(wanted) == 1:
        rows = await _FIND_ONE.rows(conn, *identities[0], now_ms)
    else:
        pairs = list(wanted)
        rows = await _FIND.rows(
            conn, [key_id for key_id, _ in pairs], [fingerprint for _, fingerprint in pairs], now_ms
        )
    found: dict[tuple[int, str], KeptResponse] = {}
    for row in rows:
        identity = (row["key_id"], row["fingerprint"])
        if identity in wanted:
            kept = orjson.loads(row["body"])
            found[identity] = KeptResponse(row["request_hash"], kept["code"], kept["fields"])
    return found


async def keep_many(
    conn: AsyncConnection, answers: list[tuple[int, str, KeptResponse, int]], now_ms: int
) -> None:
    """Remember (key id, fingerprint, response, time to keep) answers.

    Raises IntegrityError if an identical request got there first (its row is live).
    """
    if not answers:
        return
    rows = [
        (
            key_id,
            fingerprint,
            response.request_hash,
            200,
            orjson.dumps({"code": response.code, "fields": response.fields}).decode(),
            now_ms + ttl_ms,
        )
        for key_id, fingerprint, response, ttl_ms in answers
    ]
    if conn.dialect.name == "postgresql":
        kept = await _KEEP_OVER_EXPIRED.run(conn, *columns_of(rows), now_ms)
        if kept < len(rows):
            raise IntegrityError(_KEEP_OVER_EXPIRED.postgres, None, _LIVE_ALREADY)
        return
    # Expired answers under the same fingerprints give way to the new ones.
    if len(answers) == 1:
        await _FORGET_EXPIRED_ONE.run(conn, answers[0][0], answers[0][1], now_ms)
    else:
        await _FORGET_EXPIRED.run(
            conn, [key_id for key_id, _, _, _ in answers], [fp for _, fp, _, _ in answers], now_ms
        )
    await _KEEP.run_rows(conn, rows)


async def purge(conn: AsyncConnection, now_ms: int) -> int:
    """Forget the answers past their time; how many."""
    return await _PURGE.run(conn, now_ms)
