"""Kept responses are found pair by pair: a batch of requests looks up its own (key,
fingerprint) pairs, whatever else the key has kept, and only those. Keeping answers writes over
expired ones under the same pairs and collides with live ones."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy.exc import IntegrityError

from ileti.store import idempotency
from ileti.store.db import Database
from ileti.store.idempotency import KeptResponse

NOW_MS = 1_800_000_000_000
MINUTES_2 = 120_000


def _fingerprint(key_id: int, n: int) -> str:
    return f"{key_id:04d}{n:060d}"


def _answer(n: int) -> KeptResponse:
    return KeptResponse(f"h{n}", "TS-1024", {"n": n})


async def _keep(db: Database, key_id: int, numbers: range, kept_ms: int) -> None:
    async with db.write() as conn:
        await idempotency.keep_many(
            conn,
            [(key_id, _fingerprint(key_id, n), _answer(n), MINUTES_2) for n in numbers],
            kept_ms,
        )


async def _kept(db: Database) -> None:
    """Key 1 has answered 3,000 requests in the last two minutes, key 2 answered 200, and an
    answer of key 1 from long ago has expired."""
    await _keep(db, 1, range(3_000), NOW_MS - MINUTES_2 // 2)
    await _keep(db, 2, range(200), NOW_MS - MINUTES_2 // 2)
    await _keep(db, 1, range(5_000, 5_001), NOW_MS - 10 * MINUTES_2)


def _wanted() -> list[tuple[int, str]]:
    return [
        *[(1, _fingerprint(1, n)) for n in range(100, 120)],  # kept
        *[(1, _fingerprint(1, n)) for n in range(9_000, 9_010)],  # never asked
        *[(2, _fingerprint(2, n)) for n in range(5)],  # kept by the other key
        *[(1, _fingerprint(2, n)) for n in range(5, 10)],  # key 2's requests, asked of key 1
        (1, _fingerprint(1, 5_000)),  # expired
    ]


async def test_a_batch_finds_exactly_its_own_live_answers(db: Database) -> None:
    await _kept(db)
    async with db.read() as conn:
        found = await idempotency.find_many(conn, _wanted(), NOW_MS)
    expected = {(1, _fingerprint(1, n)): n for n in range(100, 120)} | {
        (2, _fingerprint(2, n)): n for n in range(5)
    }
    assert {pair: kept.fields["n"] for pair, kept in found.items()} == expected
    assert {kept.code for kept in found.values()} == {"TS-1024"}


async def test_an_expired_answer_gives_way_to_a_new_one(db: Database) -> None:
    await _kept(db)
    again = (1, _fingerprint(1, 5_000))
    async with db.write() as conn:
        await idempotency.keep_many(
            conn,
            [(*again, KeptResponse("h-new", "TS-1024", {"n": "new"}), MINUTES_2)],
            NOW_MS,
        )
    async with db.read() as conn:
        found = await idempotency.find_many(conn, [again, (1, _fingerprint(1, 1))], NOW_MS)
    assert found[again].request_hash == "h-new"
    assert found[(1, _fingerprint(1, 1))].request_hash == "h1"


async def test_a_batch_writes_over_the_expired_answers_among_its_pairs(db: Database) -> None:
    await _kept(db)
    batch = [(1, _fingerprint(1, n)) for n in (5_000, 7_001, 7_002)]  # the first expired
    async with db.write() as conn:
        await idempotency.keep_many(
            conn,
            [
                (*pair, KeptResponse(f"new-{i}", "TS-1024", {}), MINUTES_2)
                for i, pair in enumerate(batch)
            ],
            NOW_MS,
        )
    async with db.read() as conn:
        found = await idempotency.find_many(conn, batch, NOW_MS)
    assert {pair: kept.request_hash for pair, kept in found.items()} == {
        pair: f"new-{i}" for i, pair in enumerate(batch)
    }


async def test_an_answer_whose_pair_is_live_collides_and_its_batch_keeps_nothing(
    db: Database,
) -> None:
    """Two identical requests raced: the second's batch fails whole, and is stored again one
    request at a time (each repeat then answered from the first)."""
    await _kept(db)
    live = (1, _fingerprint(1, 7))
    fresh = (1, _fingerprint(1, 8_000))
    with pytest.raises(IntegrityError):
        async with db.write() as conn:
            await idempotency.keep_many(
                conn,
                [
                    (*fresh, KeptResponse("fresh", "TS-1024", {}), MINUTES_2),
                    (*live, KeptResponse("again", "TS-1024", {}), MINUTES_2),
                ],
                NOW_MS,
            )
    async with db.read() as conn:
        found = await idempotency.find_many(conn, [live, fresh], NOW_MS)
    assert {pair: kept.request_hash for pair, kept in found.items()} == {live: "h7"}


def _scanned(node: dict[str, Any]) -> int:
    """Rows the plan's nodes read from idempotency, through an index or its heap."""
    rows = 0
    if node.get("Relation Name") == "idempotency" or node.get("Index Name") == "pk_idempotency":
        rows += (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
    return rows + sum(_scanned(child) for child in node.get("Plans", []))


async def test_a_lookup_reads_the_pairs_asked_for_not_everything_the_key_kept(
    db: Database,
) -> None:
    """A batch of 41 requests reads its own few rows, not key 1's 3,000 answers."""
    await _kept(db)
    wanted = _wanted()
    keys, fingerprints = [k for k, _ in wanted], [f for _, f in wanted]
    async with db.read() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        if db.is_postgres:
            plan = await driver.fetchval(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + idempotency._FIND.postgres,
                keys,
                fingerprints,
                NOW_MS,
            )
            # The engine's connections decode json themselves.
            read = _scanned(plan[0]["Plan"])
            assert read <= len(wanted), plan
        else:
            cursor = await driver.execute(
                "EXPLAIN QUERY PLAN " + idempotency._FIND.sqlite,
                (orjson.dumps(keys).decode(), orjson.dumps(fingerprints).decode(), NOW_MS),
            )
            steps = [row[3] for row in await cursor.fetchall()]
            searched = [step for step in steps if "idempotency" in step]
            assert searched and all("fingerprint=?" in step for step in searched), steps
