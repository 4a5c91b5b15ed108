"""``/reports/summary`` as an account's messages grow: the same time for 100,000 and 10,000,000?

    .venv/bin/python bench/reports.py [--sizes 100000,10000000] [--repeat 5] [--postgres URL]

Starts the gateway (``ileti serve`` on SQLite, or ``ileti api`` + ``ileti worker`` on a fresh
PostgreSQL schema), then fills the demo account with messages spread evenly over the last 90
days by direct SQL (in statements of up to 500,000 rows, so any triggers on ``messages`` fire
as they would for a large group): mostly delivered, some failed and expired, the last hours
still sent, a tenth international. At each size it times ``/reports/summary`` through the
server for the last 30 days and for the last 90 (median and best of ``--repeat``), and prints
the figures with the totals they added up to. On PostgreSQL it first waits for the worker's
upkeep to fold the counts' changes the fill appended (every 10 s), as it does under traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ileti.domain.schedule import ISTANBUL
from ileti.store.db import Database
from served import Served, gateway

DAYS = 90
CHUNK = 500_000
FIRST_ID = 10**12  # far above the ids the gateway gives out
# Row i of n: created i/n of the way through the 90 days; its state, segments and balance.
_COLUMNS = (
    "id, account_id, key_id, kind, title, sentto, country, text, sms_lang, lang, segments,"
    " content_type, status, cost, cost_balance, created_at, due_at, expires_at, attempts"
)
_STATUS = (
    "CASE WHEN {recent} THEN 'sent' WHEN i % 20 = 17 THEN 'failed'"
    " WHEN i % 20 = 18 THEN 'expired' ELSE 'delivered' END"
)
_POSTGRES = (
    f"INSERT INTO messages ({_COLUMNS})"
    " SELECT $1 + i, $2, 1, 'single', 'ILETI', '90532' || lpad((i % 10000000)::text, 7, '0'),"
    " CASE WHEN i % 10 = 0 THEN 'Germany-DE' ELSE 'Turkey-TR' END, 'Merhaba', 'Turkish', '1',"
    " 1 + i % 3, 0, " + _STATUS.format(recent="t > $6::timestamptz - interval '2 hours'") + ","
    " CASE WHEN i % 10 = 0 THEN 150 * (1 + i % 3) ELSE 1 + i % 3 END,"
    " CASE WHEN i % 10 = 0 THEN 'international' ELSE 'main' END, t, t, t + interval '400 days', 1"
    " FROM (SELECT i, $5::timestamptz + (i * $7::float8) * interval '1 second' AS t"
    " FROM generate_series($3::bigint, $4::bigint - 1) AS i) AS rows"
)
_SQLITE = (
    "WITH RECURSIVE n(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :last),"
    " rows AS (SELECT i, strftime('%Y-%m-%d %H:%M:%S', :start,"
    " '+' || CAST(i * :step AS INTEGER) || ' seconds') || '.000000' AS t FROM n)"
    f" INSERT INTO messages ({_COLUMNS})"
    " SELECT :base + i, :account, 1, 'single', 'ILETI',"
    " '90532' || substr('0000000' || (i % 10000000), -7),"
    " CASE WHEN i % 10 = 0 THEN 'Germany-DE' ELSE 'Turkey-TR' END, 'Merhaba', 'Turkish', '1',"
    " 1 + i % 3, 0, " + _STATUS.format(recent="t > :recent") + ","
    " CASE WHEN i % 10 = 0 THEN 150 * (1 + i % 3) ELSE 1 + i % 3 END,"
    " CASE WHEN i % 10 = 0 THEN 'international' ELSE 'main' END, t, t,"
    " strftime('%Y-%m-%d %H:%M:%S', t, '+400 days') || '.000000', 1 FROM rows"
)


def _database(served: Served) -> Database:
    return Database(
        served.env["ILETI_DATABASE_URL"], schema=served.env.get("ILETI_DATABASE_SCHEMA")
    )


async def _fill(served: Served, start: int, stop: int, size: int, now: datetime) -> None:
    """Rows ``start`` to ``stop`` of ``size``, spread over the 90 days before ``now``."""
    db = _database(served)
    first = now - timedelta(days=DAYS)
    step = DAYS * 86400 / size
    try:
        async with db.read() as conn:
            account = (
                await conn.execute(text("SELECT id FROM accounts WHERE name = 'demo'"))
            ).scalar()
        for low in range(start, stop, CHUNK):
            high = min(stop, low + CHUNK)
            async with db.write() as conn:
                if db.is_postgres:
                    driver = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]
                    await driver.execute(_POSTGRES, FIRST_ID, account, low, high, first, now, step)
                else:
                    await conn.execute(
                        text(_SQLITE),
                        {
                            "first": low,
                            "last": high,
                            "start": first.strftime("%Y-%m-%d %H:%M:%S"),
                            "step": step,
                            "base": FIRST_ID,
                            "account": account,
                            "recent": (now - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S"),
                        },
                    )
    finally:
        await db.close()


async def _folded(served: Served, within: float = 60) -> float:
    """Seconds until the worker's upkeep folded the count changes the fill appended
    (PostgreSQL; nothing to wait for on SQLite or where the counts are not kept)."""
    db = _database(served)
    started = time.perf_counter()
    try:
        while db.is_postgres and time.perf_counter() - started < within:
            async with db.read() as conn:
                try:
                    left = (
                        await conn.execute(text("SELECT count(*) FROM message_count_changes"))
                    ).scalar()
                except DBAPIError:
                    break  # no counts kept here
            if not left:
                break
            await asyncio.sleep(0.5)
    finally:
        await db.close()
    return time.perf_counter() - started


def _summary(served: Served, key: str, days: int, today: str, first: str) -> tuple[float, dict]:
    body = json.dumps({"api_key": key, "date_from": first, "date_to": today}).encode()
    request = urllib.request.Request(
        served.base_url + "/reports/summary",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        reply = json.loads(response.read())
    return time.perf_counter() - started, reply


def _time(served: Served, key: str, size: int, repeat: int, now: datetime) -> None:
    today = now.astimezone(ISTANBUL).date()
    for days in (30, DAYS):
        first = today - timedelta(days=days - 1)
        seconds = []
        reply: dict = {}
        for _ in range(repeat):
            elapsed, reply = _summary(served, key, days, today.isoformat(), first.isoformat())
            seconds.append(elapsed)
        assert reply.get("result_code") == "TS-1064", reply
        counted = sum(day["count"] for day in reply["days"])
        median, best = statistics.median(seconds) * 1000, min(seconds) * 1000
        print(
            f"{size:>12,} messages, {days:>2} days: median {median:8.1f} ms, best {best:8.1f} ms"
            f" ({len(reply['days'])} rows, {counted:,} messages)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,10000000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with gateway(args.postgres) as served:
        key = served.unlimited_key()
        print(served.label, flush=True)
        now = datetime.now(UTC).replace(microsecond=0)
        filled = 0
        for size in sizes:
            # Each size spreads its rows over the 90 days; the rows of the sizes before stay.
            started = time.perf_counter()
            asyncio.run(_fill(served, filled, size, size, now))
            filling = time.perf_counter() - started
            waited = asyncio.run(_folded(served))
            print(
                f"filled to {size:,} messages in {filling:.1f}s"
                f" (count changes folded {waited:.1f}s later)",
                flush=True,
            )
            filled = size
            _time(served, key, size, args.repeat, now)


if __name__ == "__main__":
    main()
