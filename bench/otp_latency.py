"""OTPs behind a bulk backlog: how long each takes to reach ``sent`` while bulk is queued.

    .venv/bin/python bench/otp_latency.py [--queued 200000] [--otps 200] [--postgres URL]
    .venv/bin/python bench/otp_latency.py [--rate 20] [--in-flight 8] [--timeout 60] [--wait-bulk]

Default: ``ileti serve`` on SQLite, the built-in simulator in the same process. With
``--postgres URL``: ``ileti api`` + ``ileti worker`` on PostgreSQL (a fresh schema).

Queues ``--queued`` bulk messages with ``/group/send`` requests of 10,000 recipients, then at
once sends ``--otps`` OTPs with ``/otp/send``: each due ``1 / --rate`` s after the one before
whatever the answers (at most ``--in-flight`` requests open at once; 1 sends them one at a
time), each to a number of its own (the hourly OTP limits are switched off for the run). The
time each OTP took to reach ``sent`` is read from the gateway's database: ``sent_at`` (when the
operator took it) minus the wall-clock time its request was sent, and minus the message's
``created_at``. Prints the bulk still queued when the OTPs started and when they were all sent,
the latency distribution, and how many older bulk messages the OTPs overtook. With
``--wait-bulk``, also waits for the backlog to be sent and prints how long it took. Exits 1 if
an OTP was refused or never reached ``sent``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
import urllib.error
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.store.db import Database
from ileti.store.models import Message

sys.path.insert(0, str(Path(__file__).parent))

from group import group, post
from served import Served, gateway

REQUEST = 10_000
BULK_LIMIT = 900.0  # seconds to wait for the backlog with --wait-bulk
# OTP numbers: 905399000000 on, clear of the bulk numbers (9053 00000000 on).
OTP_NUMBERS = 905_399_000_000

T = TypeVar("T")


@dataclass
class Otp:
    number: str
    requested: float  # epoch s, just before the request was sent
    answered: float = math.nan  # epoch s, when the answer came
    sms_id: int | None = None
    refused: str | None = None
    created: float | None = None  # the message's created_at, epoch s
    sent: float | None = None  # the message's sent_at, epoch s


def read(served: Served, query: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run ``query`` on a read connection to the gateway's database."""

    async def run() -> T:
        db = Database(
            served.env["ILETI_DATABASE_URL"], schema=served.env.get("ILETI_DATABASE_SCHEMA")
        )
        try:
            async with db.read() as conn:
                return await query(conn)
        finally:
            await db.close()

    return asyncio.run(run())


def bulk_queued(served: Served) -> int:
    """Bulk messages not yet taken by the operator."""

    async def query(conn: AsyncConnection) -> int:
        return await conn.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.kind == "group", Message.status == "queued")
        )

    return read(served, query)


def otp_times(served: Served, ids: list[int]) -> dict[int, tuple[datetime, datetime | None]]:
    """``created_at`` and ``sent_at`` of the OTP messages ``ids``."""

    async def query(conn: AsyncConnection) -> dict[int, tuple[datetime, datetime | None]]:
        rows = await conn.execute(
            select(Message.id, Message.created_at, Message.sent_at).where(Message.id.in_(ids))
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    return read(served, query)


def bulk_sent_between(served: Served, start: float, end: float) -> tuple[int, int]:
    """Bulk messages sent between ``start`` and ``end`` (epoch s); bulk sent after ``end`` or
    not yet sent."""
    low = datetime.fromtimestamp(start, UTC)
    high = datetime.fromtimestamp(end, UTC)

    async def query(conn: AsyncConnection) -> tuple[int, int]:
        bulk = select(func.count()).select_from(Message).where(Message.kind == "group")
        meanwhile = await conn.scalar(bulk.where(Message.sent_at > low, Message.sent_at <= high))
        later = await conn.scalar(
            bulk.where((Message.sent_at > high) | (Message.status == "queued"))
        )
        return meanwhile, later

    return read(served, query)


def last_bulk_sent(served: Served) -> float | None:
    async def query(conn: AsyncConnection) -> float | None:
        last = await conn.scalar(select(func.max(Message.sent_at)).where(Message.kind == "group"))
        return last.timestamp() if last is not None else None

    return read(served, query)


def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def queue_bulk(served: Served, key: str, count: int) -> int:
    accepted = 0
    for offset in range(0, count, REQUEST):
        recipients = min(REQUEST, count - offset)
        _, reply = post(served, "/group/send", group(key, recipients, offset))
        if reply.get("result_code") != "TS-1024":
            raise SystemExit(f"a group was refused: {reply}")
        accepted += int(reply["success_count"])  # type: ignore[call-overload]
    return accepted


def send_otp(served: Served, key: str, number: str) -> Otp:
    otp = Otp(number, time.time())
    try:
        _, reply = post(served, "/otp/send", {"api_key": key, "mobile": number, "lang": 0})
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace")
        try:
            reply = json.loads(body)
        except ValueError:
            reply = {"result_code": f"HTTP {exc.code}", "description": body[:200]}
    otp.answered = time.time()
    if reply.get("result_code") == "TS-1024" and reply.get("sms_id") is not None:
        otp.sms_id = int(reply["sms_id"])  # type: ignore[call-overload]
    else:
        otp.refused = f"{reply.get('result_code')} {reply.get('description', '')}".strip()
    return otp


def send_otps(served: Served, key: str, count: int, rate: float, in_flight: int) -> list[Otp]:
    """``count`` OTPs due ``1 / rate`` s apart, at most ``in_flight`` requests open at once
    (a request starts late only when that many are still waiting for their answers)."""
    started = time.monotonic()

    def one(n: int) -> Otp:
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return send_otp(served, key, str(OTP_NUMBERS + n))

    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        return list(pool.map(one, range(count)))


def wait_sent(served: Served, otps: list[Otp], timeout: float) -> None:
    """Until every accepted OTP has a ``sent_at`` (or ``timeout`` s pass); fills in times."""
    ids = [o.sms_id for o in otps if o.sms_id is not None]
    deadline = time.monotonic() + timeout
    while True:
        times = otp_times(served, ids)
        for otp in otps:
            if otp.sms_id in times:
                created, sent = times[otp.sms_id]
                otp.created = created.timestamp()
                otp.sent = sent.timestamp() if sent is not None else None
        if all(o.sent is not None for o in otps if o.sms_id is not None):
            return
        if time.monotonic() > deadline:
            return
        time.sleep(0.25)


def distribution(label: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{label}: p50 {percentile(ms, 50):,.0f} ms, p90 {percentile(ms, 90):,.0f} ms, "
        f"p99 {percentile(ms, 99):,.0f} ms, max {max(ms):,.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=200_000, help="bulk messages to queue")
    parser.add_argument("--otps", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="OTP requests a second")
    parser.add_argument("--in-flight", type=int, default=8, help="OTP requests open at most")
    parser.add_argument("--timeout", type=float, default=60.0, help="s to wait for OTPs")
    parser.add_argument("--postgres", help="run ileti api + ileti worker on this database")
    parser.add_argument("--wait-bulk", action="store_true", help="wait for the backlog too")
    args = parser.parse_args()
    # 0: no hourly OTP ceiling (each OTP has a number of its own anyway).
    env = {"ILETI_OTP_PER_NUMBER_HOUR": "0", "ILETI_OTP_PER_COUNTRY_HOUR": "0"}
    with gateway(args.postgres, env) as served:
        key = served.unlimited_key()
        served.ileti("account", "topup", "demo", "--credits", str(args.queued * 2 + 10_000))
        served.ileti("account", "set", "demo", "--otp-title", "ILETI")

        first_request = time.time()
        accepted = queue_bulk(served, key, args.queued)
        accept_seconds = time.time() - first_request
        print(
            f"{served.label}: {accepted:,} bulk messages accepted in {accept_seconds:.1f}s "
            f"in requests of {REQUEST:,}"
        )

        queued_before = bulk_queued(served)
        otps = send_otps(served, key, args.otps, args.rate, args.in_flight)
        queued_after_requests = bulk_queued(served)
        wait_sent(served, otps, args.timeout)
        queued_after_sent = bulk_queued(served)

        taken = [
            (o, o.sent, o.created) for o in otps if o.sent is not None and o.created is not None
        ]
        refused = [o for o in otps if o.refused is not None]
        unsent = [o for o in otps if o.sms_id is not None and o.sent is None]
        first_otp = min((o.requested for o in otps), default=time.time())
        last_request = max((o.requested for o in otps), default=first_otp)
        last_answer = max((o.answered for o in otps), default=first_otp)
        last_sent = max((sent for _, sent, _ in taken), default=None)
        print(
            f"bulk still queued: {queued_before:,} when the OTPs started, "
            f"{queued_after_requests:,} when the last OTP request was answered "
            f"({last_answer - first_otp:.1f}s later), {queued_after_sent:,} once every OTP "
            f"was sent"
        )
        span = last_request - first_otp
        print(
            f"OTPs: {len(otps)} requested over {span:.1f}s "
            f"({(len(otps) - 1) / span if span > 0 else 0:.1f}/s; asked for {args.rate:g}/s, "
            f"at most {args.in_flight} open), {len(taken)} sent, {len(refused)} refused, "
            f"{len(unsent)} not sent within {args.timeout:.0f}s"
        )
        for otp in refused[:5]:
            print(f"  refused {otp.number}: {otp.refused}")
        if taken:
            to_sent = [sent - o.requested for o, sent, _ in taken]
            print(distribution("request to sent", to_sent))
            print(distribution("created_at to sent", [sent - made for _, sent, made in taken]))
            print(distribution("request answered", [o.answered - o.requested for o, _, _ in taken]))
            within = sum(1 for v in to_sent if v <= 1.0)
            print(
                f"reached sent within 1 s of the request: {within}/{len(taken)} "
                f"({within / len(taken):.1%})"
            )
        if last_sent is not None:
            meanwhile, later = bulk_sent_between(served, first_otp, last_sent)
            window = last_sent - first_otp
            print(
                f"bulk sent while the OTPs went out ({window:.1f}s): {meanwhile:,} "
                f"({meanwhile / window if window > 0 else 0:,.0f}/s); bulk accepted before the "
                f"first OTP and sent after the last one: {later:,}"
            )

        if args.wait_bulk:
            deadline = time.monotonic() + BULK_LIMIT
            remaining = bulk_queued(served)
            while remaining and time.monotonic() < deadline:
                time.sleep(1)
                remaining = bulk_queued(served)
            last = last_bulk_sent(served)
            total = last - first_request if last is not None else math.nan
            if remaining:
                print(f"bulk not all sent within {BULK_LIMIT:.0f}s: {remaining:,} still queued")
            print(
                f"bulk backlog: first group request to last bulk sent {total:.1f}s "
                f"({accepted / total:,.0f} messages/s)"
            )
    if refused or unsent or len(taken) < len(otps):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
