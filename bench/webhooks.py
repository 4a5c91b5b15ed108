"""Webhook delivery: events per second from the outbox to local receivers.

Fills the outbox of a fresh database with signed events for one or more keys, each with its own
receiver (a small HTTP server in a separate process on loopback), then runs webhook senders as
workers do (each in a process of its own, claiming under leases) and prints how fast the events
are delivered (a 2xx recorded for each).

    .venv/bin/python bench/webhooks.py [--events 20000] [--receivers 4] [--senders 2]
    .venv/bin/python bench/webhooks.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
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

# A receiver that answers 204 to every request and counts them on stdout when it ends.
RECEIVER = r"""
import asyncio, signal, sys, uvloop
count = 0
async def serve(reader, writer):
    global count
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            count += 1
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    print(count, flush=True)
uvloop.run(main())
"""

# One worker's webhook sender, on the database named by its arguments.
SENDER = """
import sys, uvloop
from ileti.store.db import Database
from ileti.webhooks.sender import SenderSettings, WebhookSender
db = Database(sys.argv[1], schema=sys.argv[2] or None)
uvloop.run(WebhookSender(db, SenderSettings(allow_private=True)).run())
"""

events = WebhookEvent.__table__


def start_receiver() -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def start_sender(db: Database) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", SENDER, db.url, db.schema or ""], text=True)


async def fill(db: Database, urls: list[str], count: int) -> None:
    async with db.write() as conn:
        account = await accounts.create_account(conn, "bench", utcnow())
        key_ids = []
        for url in urls:
            _, key = await keys.create_key(conn, account.id, utcnow())
            await outbox.save_config(conn, key.id, WebhookConfig(url=url, secret=new_secret()))
            key_ids.append(key.id)
    for start in range(0, count, 5000):
        made = [
            make_event(
                key_ids[i % len(key_ids)],
                EventType.SMS_DELIVERED,
                {"sms_id": i, "status": "delivered", "sentto": "905320000000", "number_of_sms": 1},
                utcnow(),
            )
            for i in range(start, min(count, start + 5000))
        ]
        async with db.write() as conn:
            await outbox.add(conn, made)


async def delivered(db: Database) -> int:
    async with db.read() as conn:
        return (
            await conn.execute(
                select(func.count()).select_from(events).where(events.c.status == "delivered")
            )
        ).scalar_one()


async def run(db: Database, count: int, receivers: int, senders: int) -> None:
    started = [start_receiver() for _ in range(receivers)]
    workers: list[subprocess.Popen[str]] = []
    try:
        await fill(db, [f"http://127.0.0.1:{port}/hook" for _, port in started], count)
        began = time.perf_counter()
        workers = [start_sender(db) for _ in range(senders)]
        done = 0
        first: tuple[float, int] | None = None
        while done < count:
            await asyncio.sleep(0.05)
            done = await delivered(db)
            if first is None and done:
                first = (time.perf_counter(), done)
        finished = time.perf_counter()
        elapsed = finished - began
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait()
        received = 0
        for process, _ in started:
            process.terminate()
            out, _ = process.communicate(timeout=10)
            received += int(out.split()[-1])
    async with db.read() as conn:
        attempts = (
            await conn.execute(select(func.count()).select_from(WebhookAttempt.__table__))
        ).scalar_one()
    print(
        f"events delivered:        {count:,} to {receivers} receiver(s) by {senders} sender(s)"
        f" ({db.engine.dialect.name})"
    )
    assert first is not None
    steady = (count - first[1]) / (finished - first[0])
    print(f"elapsed:                 {elapsed:.2f} s (sender start-up included)")
    print(f"events/s:                {count / elapsed:,.0f}")
    print(f"events/s, running:       {steady:,.0f} (from the first delivery on)")
    print(f"requests received:       {received:,} (attempts recorded: {attempts:,})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--receivers", type=int, default=4)
    parser.add_argument("--senders", type=int, default=2, help="sender processes (workers)")
    parser.add_argument("--postgres", help="a PostgreSQL URL (a fresh schema is made and dropped)")
    args = parser.parse_args()
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
                await run(db, args.events, args.receivers, args.senders)
            finally:
                await db.close()
        finally:
            if schema:
                await autocommit(url, f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    os.environ.setdefault("ILETI_LOG_LEVEL", "WARNING")
    uvloop.run(main())
