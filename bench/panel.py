"""The panel's report pages with a million messages in the account: each under 100 ms?

    .venv/bin/python bench/panel.py [--size 1000000] [--group 10000] [--repeat 30] [--postgres URL]

Starts the gateway (``ileti serve`` on SQLite, or ``ileti api`` + ``ileti worker`` on a fresh
PostgreSQL schema), fills the demo account with ``--size`` messages over the last 90 days as
``bench/reports.py`` does (mostly delivered, a tenth failed or expired, the last hours sent),
moves the id sequence past them so the gateway's own sends stay newest, sends one group of
``--group`` numbers through ``/group/send`` (some 60,000 at most fit in the API's 1 MB body),
adds a panel user with ``ileti user add`` and logs in as a browser does. Then it asks each
page ``--repeat`` times, one at a time over one keep-alive connection, and prints p50, p95 and
max of the time from request to the last byte of the answer (loopback: the server's time plus a
fraction of a millisecond). On SQLite it also prints the query plan of each list's statement.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import httpx
from sqlalchemy import text

import reports as fill
from ileti.domain.lifecycle import MessageStatus
from ileti.domain.schedule import ISTANBUL
from ileti.reporting.reports import MessageQuery
from ileti.store import reports as report_statements
from ileti.store.message_span import id_span
from served import Served, gateway

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
NEXT = re.compile(r'href="([^"]+)" rel="next"')
LIMIT_MS = 100.0


async def _after_fill(served: Served, size: int) -> None:
    """The gateway's next ids above the filled ones, as if they had been sent through it."""
    db = fill._database(served)
    last = fill.FIRST_ID + size
    try:
        async with db.write() as conn:
            if db.is_postgres:
                await conn.execute(text(f"SELECT setval('message_ids', {last})"))
            else:
                await conn.execute(
                    text(
                        "INSERT INTO id_sequence (name, next_id) VALUES ('messages', :next)"
                        " ON CONFLICT (name) DO UPDATE SET next_id = excluded.next_id"
                    ),
                    {"next": last + 1},
                )
    finally:
        await db.close()


def _log_in(served: Served) -> httpx.Client:
    email = "bench@panel.test"
    password = (
        served.ileti("user", "add", "demo", email, "--role", "owner").strip().splitlines()[-1]
    )
    client = httpx.Client(base_url=served.base_url, timeout=120)
    form = client.get("/panel/login")
    token = CSRF.search(form.text)
    assert token, form.text
    answer = client.post(
        "/panel/login", data={"csrf": token.group(1), "email": email, "password": password}
    )
    assert answer.status_code == 303, answer.text
    return client


def _group(served: Served, key: str, size: int) -> int:
    numbers = [f"905{33 + n // 10_000_000}{n % 10_000_000:07d}" for n in range(size)]
    served.ileti("account", "topup", "demo", "--credits", str(size * 2))
    reply = httpx.post(
        served.base_url + "/group/send",
        json={"api_key": key, "title": "ILETI", "sentto": numbers, "text": "Kampanya"},
        timeout=600,
    ).json()
    assert reply.get("group_id"), reply
    return int(reply["group_id"])


def _time(client: httpx.Client, path: str, repeat: int) -> list[float]:
    client.get(path)  # the first read of a page warms the database's cache
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
    return times


def _pages(client: httpx.Client, now: datetime, group_id: int) -> dict[str, str]:
    today = now.astimezone(ISTANBUL).date()
    month_ago = (today - timedelta(days=30)).isoformat()
    second = NEXT.search(client.get("/panel/sends").text)
    assert second, "no second page"
    # Row i of the fill went to 90532 and i's last seven digits: one number, one message.
    return {
        "dashboard": "/panel/",
        "sends": "/panel/sends",
        "sends, second page": second.group(1).replace("&amp;", "&"),
        "sends, state failed": "/panel/sends?status=failed",
        "sends, state sent": "/panel/sends?status=sent",
        # No message was cancelled: the page looks through its bounded walk and links on.
        "sends, a state none is in": "/panel/sends?status=cancelled",
        "sends, number": "/panel/sends?number=0532+012+34+56",
        "sends, one day a month ago": f"/panel/sends?date_from={month_ago}&date_to={month_ago}",
        "sends, a day and a state": (
            f"/panel/sends?date_from={month_ago}&date_to={month_ago}&status=expired"
        ),
        "sends, title": "/panel/sends?title=ILETI",
        "group detail": f"/panel/sends/group/{group_id}",
        "group detail, second page": f"/panel/sends/group/{group_id}?before={group_id + 60}",
        "summary, 7 days": "/panel/sends/summary",
        "summary, 90 days": (
            f"/panel/sends/summary?from={(today - timedelta(days=89)).isoformat()}"
            f"&to={today.isoformat()}"
        ),
        "message detail": f"/panel/sends/message/{fill.FIRST_ID + 12_345}",
    }


async def _plans(served: Served, now: datetime) -> None:
    """SQLite's plan for each list's statement, bound as the page binds it."""
    db = fill._database(served)
    day = (now.astimezone(ISTANBUL) - timedelta(days=30)).date()
    queries = {
        "unfiltered": MessageQuery(),
        "state": MessageQuery(status=MessageStatus.FAILED),
        "number": MessageQuery(number="905320123456"),
        "one day": MessageQuery(date_from=day, date_to=day),
        "group": MessageQuery(group_id=1),
    }
    try:
        async with db.read() as conn:
            account = (
                await conn.execute(text("SELECT id FROM accounts WHERE name = 'demo'"))
            ).scalar()
            for name, query in queries.items():
                statement, positional = await _bound(conn, account, query)
                plan = await conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement.sqlite, tuple(positional)
                )
                steps = "; ".join(row[-1] for row in plan.fetchall())
                print(f"  plan, {name:<10} {steps}", flush=True)
    finally:
        await db.close()


async def _bound(conn, account: int, query: MessageQuery):
    since, until = report_statements.istanbul_days(query.date_from, query.date_to)
    after, before = await id_span(conn, account, since, until)
    statement, values = report_statements._PAGE.bind(
        {
            "since": since,
            "until": until,
            "status": query.status.value if query.status else None,
            "sentto": query.number,
            "group_id": query.group_id,
            "after": after,
            "before": before,
        }
    )
    stamped = [v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v for v in values]
    return statement, [account, *stamped, 51]


def _report(name: str, times: list[float]) -> bool:
    ordered = sorted(times)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    worst = ordered[-1]
    verdict = "ok" if p95 < LIMIT_MS else "SLOW"
    print(
        f"  {name:<28} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  max {worst:7.1f} ms  {verdict}",
        flush=True,
    )
    return p95 < LIMIT_MS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--group", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--postgres")
    args = parser.parse_args()
    with gateway(args.postgres) as served:
        print(served.label, flush=True)
        key = served.unlimited_key()
        now = datetime.now(UTC).replace(microsecond=0)
        started = time.perf_counter()
        asyncio.run(fill._fill(served, 0, args.size, args.size, now))
        asyncio.run(_after_fill(served, args.size))
        waited = asyncio.run(fill._folded(served))
        print(
            f"filled {args.size:,} messages in {time.perf_counter() - started:.1f}s"
            f" (count changes folded {waited:.1f}s later)",
            flush=True,
        )
        group_id = _group(served, key, args.group)
        print(f"sent group {group_id} of {args.group:,} numbers", flush=True)
        if not args.postgres:
            asyncio.run(_plans(served, now))
        client = _log_in(served)
        try:
            pages = _pages(client, now, group_id)
            print(f"{args.repeat} requests a page, one at a time:", flush=True)
            fast = [_report(name, _time(client, path, args.repeat)) for name, path in pages.items()]
        finally:
            client.close()
        print("every page under 100 ms at p95" if all(fast) else "some pages over 100 ms")


if __name__ == "__main__":
    main()
