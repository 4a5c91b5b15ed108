"""Webhook delivery: events per second from the outbox to local receivers, and what one slow
receiver costs the others.

Each key has its own receiver, a small HTTP server in a process of its own on loopback. The
receivers of the "flaky" keys can fail a share of deliveries with 500 and stall a share of them
for a few seconds first (the soak's receiver: ``--fail 0.2 --stall 0.05 --stall-seconds 3``); a
healthy receiver on a key of its own answers 204 at once and measures how long each event took
from its creation to its arrival. Webhook senders run as workers do, each in a process of its
own, claiming under leases.

Two ways to load it:

- ``--events N``: the outbox is filled first, then the senders drain it (throughput).
- ``--rate R --seconds S``: events are written at R a second to the flaky keys (and at
  ``--healthy-rate`` to the healthy one) for S seconds while the senders run; the outbox is
  sampled every second. Delivery keeps up when the backlog of overdue events stays flat.

Printed: events delivered per second, CPU µs of the sender processes per delivered event and per
attempt, the backlog over time, and the healthy receiver's delay p50/p99.

    .venv/bin/python bench/webhooks.py [--events 20000] [--receivers 4] [--senders 2]
    .venv/bin/python bench/webhooks.py --rate 500 --seconds 60 --receivers 1 --senders 1 \
        --fail 0.2 --stall 0.05 --stall-seconds 3 --healthy-rate 20
    .venv/bin/python bench/webhooks.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import uvloop
from sqlalchemy import func, select

from ileti.domain.clock import utcnow
from ileti.domain.signing import new_secret
from ileti.domain.webhooks import EventType, WebhookConfig, make_event
from ileti.store import accounts, keys, migrate
from ileti.store import webhooks as outbox
from ileti.store.db import Database
from ileti.store.models import WebhookAttempt, WebhookEvent

sys.path.insert(0, str(Path(__file__).parent))

from served import autocommit

# A receiver: answers 500 to a share of requests (``fail``), waits ``stall_seconds`` first on a
# share of them (``stall``), 204 otherwise. When it ends it prints, as JSON, how many requests it
# got and, for each 2xx, the event's id and when it arrived (epoch ms).
RECEIVER = r"""
import asyncio, json, os, random, signal, sys, time, uvloop
fail, stall, stall_seconds = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
count = 0
arrived = []
OK = b"HTTP/1.1 204 No Content\r\n\r\n"
FAIL = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nfail"
async def serve(reader, writer):
    global count
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            count += 1
            if stall and random.random() < stall:
                await asyncio.sleep(stall_seconds)
            if fail and random.random() < fail:
                writer.write(FAIL)
                continue
            start = body.find(b'"event_id":"') + 12
            arrived.append((body[start:body.find(b'"', start)].decode(), time.time() * 1000))
            writer.write(OK)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    print(json.dumps({"count": count, "arrived": arrived}), flush=True)
    # Requests still stalled are of no interest: end without waiting for them.
    os._exit(0)
uvloop.run(main())
"""

# One worker's webhook sender, on the database named by its arguments; settings as JSON.
SENDER = """
import json, sys, uvloop
from ileti.store.db import Database
from ileti.webhooks.sender import SenderSettings, WebhookSender
db = Database(sys.argv[1], schema=sys.argv[2] or None)
settings = SenderSettings(allow_private=True, **json.loads(sys.argv[3]))
uvloop.run(WebhookSender(db, settings).run())
"""

events = WebhookEvent.__table__
attempts_table = WebhookAttempt.__table__


@dataclass
class Receiver:
    process: subprocess.Popen[str]
    port: int
    key_id: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def finish(self) -> dict[str, object]:
        self.process.terminate()
        out, _ = self.process.communicate(timeout=30)
        return json.loads(out.splitlines()[-1])


def start_receiver(fail: float, stall: float, stall_seconds: float) -> Receiver:
    process = subprocess.Popen(
        [sys.executable, "-c", RECEIVER, str(fail), str(stall), str(stall_seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return Receiver(process, int(process.stdout.readline()))


def start_sender(db: Database, settings: dict[str, object]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SENDER, db.url, db.schema or "", json.dumps(settings)], text=True
    )


def start_profiler(pid: int, seconds: float, output: str) -> subprocess.Popen[bytes]:
    """py-spy sampling a sender for ``seconds`` (collapsed stacks, for a flame graph)."""
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    return subprocess.Popen(
        [
            *(py_spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "100"),
            *("--output", output, "--duration", str(int(seconds))),
        ],
        stdout=subprocess.DEVNULL,
    )


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def hook(db: Database, receivers: list[Receiver]) -> None:
    async with db.write() as conn:
        account = await accounts.create_account(conn, "bench", utcnow())
        for receiver in receivers:
            _, key = await keys.create_key(conn, account.id, utcnow())
            config = WebhookConfig(url=receiver.url, secret=new_secret())
            await outbox.save_config(conn, key.id, config)
            receiver.key_id = key.id


async def add(
    db: Database,
    key_ids: list[int],
    count: int,
    first: int = 0,
    committed: dict[str, float] | None = None,
) -> None:
    """``count`` events for the keys in turn; with ``committed``, the time each was committed
    (epoch ms) goes into it by the event's id."""
    made = [
        make_event(
            key_ids[i % len(key_ids)],
            EventType.SMS_DELIVERED,
            {"sms_id": i, "status": "delivered", "sentto": "905320000000", "number_of_sms": 1},
            utcnow(),
        )
        for i in range(first, first + count)
    ]
    async with db.write() as conn:
        await outbox.add(conn, made)
    if committed is not None:
        now_ms = time.time() * 1000
        committed.update((e.id, now_ms) for e in made)


async def fill(db: Database, key_ids: list[int], count: int) -> None:
    for start in range(0, count, 5000):
        await add(db, key_ids, min(5000, count - start), start)


async def produce(
    db: Database,
    key_ids: list[int],
    rate: float,
    seconds: float,
    committed: dict[str, float] | None = None,
) -> int:
    """Writes events at ``rate`` a second for ``seconds``, a tenth of a second's worth at a
    time; how many it wrote."""
    began = time.perf_counter()
    made = 0
    while (elapsed := time.perf_counter() - began) < seconds:
        due = int(rate * elapsed) - made
        if due > 0:
            await add(db, key_ids, due, made, committed)
            made += due
        await asyncio.sleep(0.1)
    return made


@dataclass
class Sample:
    at: float
    delivered: int
    pending: int
    overdue: int
    attempts: int
    cpu: float


async def sample(db: Database, began: float, senders: list[int]) -> Sample:
    now_ms = int(time.time() * 1000)
    async with db.read() as conn:
        counts = {
            row.status: row.n
            for row in await conn.execute(
                select(events.c.status, func.count().label("n")).group_by(events.c.status)
            )
        }
        overdue = (
            await conn.execute(
                select(func.count())
                .select_from(events)
                .where(events.c.status == "pending", events.c.due_ms <= now_ms - 1000)
            )
        ).scalar_one()
        attempts = (
            await conn.execute(select(func.count()).select_from(attempts_table))
        ).scalar_one()
    return Sample(
        time.perf_counter() - began,
        counts.get("delivered", 0),
        counts.get("pending", 0),
        overdue,
        attempts,
        sum(cpu_seconds(pid) for pid in senders),
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def run(db: Database, args: argparse.Namespace) -> None:
    flaky = [
        start_receiver(args.fail, args.stall, args.stall_seconds) for _ in range(args.receivers)
    ]
    healthy = start_receiver(0.0, 0.0, 0.0) if args.healthy_rate else None
    receivers = flaky + ([healthy] if healthy else [])
    workers: list[subprocess.Popen[str]] = []
    profiler: subprocess.Popen[bytes] | None = None
    samples: list[Sample] = []
    # The healthy key's events: when each was committed to the outbox.
    committed: dict[str, float] = {}
    try:
        await hook(db, receivers)
        flaky_keys = [r.key_id for r in flaky]
        if not args.rate:
            await fill(db, flaky_keys, args.events)
        workers = [start_sender(db, args.settings) for _ in range(args.senders)]
        pids = [w.pid for w in workers]
        if args.profile:
            profiler = start_profiler(pids[0], args.seconds if args.rate else 60, args.profile)
        began = time.perf_counter()
        began_ms = time.time() * 1000
        samples.append(await sample(db, began, pids))
        producers = []
        if args.rate:
            producers.append(
                asyncio.ensure_future(produce(db, flaky_keys, args.rate, args.seconds))
            )
            if healthy:
                producers.append(
                    asyncio.ensure_future(
                        produce(db, [healthy.key_id], args.healthy_rate, args.seconds, committed)
                    )
                )
        print(
            f"{'s':>5} {'delivered/s':>12} {'attempts/s':>11} {'pending':>8} {'overdue':>8}"
            f" {'sender CPU':>10}"
        )
        while True:
            await asyncio.sleep(1.0)
            last = samples[-1]
            now = await sample(db, began, pids)
            samples.append(now)
            span = now.at - last.at
            if round(now.at) % args.every == 0 or (not args.rate and now.pending == 0):
                print(
                    f"{now.at:5.0f} {(now.delivered - last.delivered) / span:12,.0f}"
                    f" {(now.attempts - last.attempts) / span:11,.0f} {now.pending:8,}"
                    f" {now.overdue:8,} {(now.cpu - last.cpu) / span:10.0%}"
                )
            if args.rate:
                if all(p.done() for p in producers):
                    break
            elif now.delivered >= args.events:
                break
        made = sum(p.result() for p in producers) if args.rate else args.events
    finally:
        if profiler is not None:
            profiler.wait()
        for worker in workers:
            worker.terminate()
            worker.wait()
        answers = [r.finish() for r in receivers]
    first, last = samples[0], samples[-1]
    # From the first second with a delivery on: start-up left out.
    running = next((s for s in samples if s.delivered), first)
    elapsed = last.at - first.at
    delivered = last.delivered - first.delivered
    attempts = last.attempts - first.attempts
    # The senders' start-up (imports) left out.
    cpu = last.cpu - running.cpu
    counted = max(last.delivered - running.delivered, 1)
    tried = max(last.attempts - running.attempts, 1)
    mode = f"{args.rate:g}/s for {args.seconds:g} s" if args.rate else f"{args.events:,} prefilled"
    print(
        f"events:                  {made:,} ({mode}) to {args.receivers} receiver(s)"
        f" failing {args.fail:.0%}, stalling {args.stall_seconds:g} s on {args.stall:.0%};"
        f" {args.senders} sender(s), {db.engine.dialect.name}"
    )
    print(f"elapsed:                 {elapsed:.1f} s")
    print(
        f"delivered:               {delivered:,} ({delivered / elapsed:,.0f}/s;"
        f" {(last.delivered - running.delivered) / max(last.at - running.at, 1e-9):,.0f}/s"
        " from the first delivery on)"
    )
    print(f"attempts:                {attempts:,} ({attempts / elapsed:,.0f}/s)")
    print(
        f"sender CPU:              {cpu:.1f} s ({cpu / (last.at - running.at):.0%} of a core,"
        f" from the first delivery on); {cpu / counted * 1e6:,.0f} µs per delivered event,"
        f" {cpu / tried * 1e6:,.0f} µs per attempt"
    )
    print(f"pending at the end:      {last.pending:,} ({last.overdue:,} overdue by over 1 s)")
    if args.rate:
        overdue = [s.overdue for s in samples]
        print(f"overdue backlog:         max {max(overdue):,}, at the end {overdue[-1]:,}")
    if healthy:
        arrived = answers[-1]["arrived"]
        assert isinstance(arrived, list)
        # Events written before the senders' first delivery waited for their start-up.
        since = began_ms + running.at * 1000
        delays = [
            at - committed[event_id]
            for event_id, at in arrived
            if committed.get(event_id, 0) >= since
        ]
        print(
            f"healthy receiver:        {len(delays):,} events, delay from the commit"
            f" p50 {percentile(delays, 0.5):,.0f} ms, p99 {percentile(delays, 0.99):,.0f} ms,"
            f" max {max(delays, default=float('nan')):,.0f} ms"
        )
    received = sum(int(a["count"]) for a in answers)  # type: ignore[call-overload]
    print(f"requests received:       {received:,}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="prefilled events")
    parser.add_argument("--rate", type=float, default=0, help="events/s written while sending")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--receivers", type=int, default=4, help="flaky receivers, a key each")
    parser.add_argument("--fail", type=float, default=0.0, help="share answered 500")
    parser.add_argument("--stall", type=float, default=0.0, help="share answered late")
    parser.add_argument("--stall-seconds", type=float, default=3.0)
    parser.add_argument(
        "--healthy-rate", type=float, default=0, help="events/s to a healthy receiver's key"
    )
    parser.add_argument("--senders", type=int, default=2, help="sender processes (workers)")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a SenderSettings field for the senders, e.g. per_receiver=64",
    )
    parser.add_argument("--every", type=int, default=5, help="print a sample every n seconds")
    parser.add_argument("--profile", help="write py-spy's samples of the first sender here")
    parser.add_argument("--postgres", help="a PostgreSQL URL (a fresh schema is made and dropped)")
    args = parser.parse_args()
    args.settings = {
        name: json.loads(value) for name, value in (s.split("=", 1) for s in args.setting)
    }
    with tempfile.TemporaryDirectory(prefix="ileti-webhooks-") as tmp:
        schema = None
        if args.postgres:
            url = args.postgres
            schema = f"ileti_bench_{uuid.uuid4().hex[:8]}"
            await autocommit(url, f'CREATE SCHEMA "{schema}"')
        else:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'ileti.db'}"
        try:
            await asyncio.to_thread(migrate.upgrade, url, schema)
            db = Database(url, schema=schema)
            try:
                await run(db, args)
            finally:
                await db.close()
        finally:
            if schema:
                await autocommit(url, f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    os.environ.setdefault("ILETI_LOG_LEVEL", "WARNING")
    uvloop.run(main())
