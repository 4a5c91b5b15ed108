"""A soak of mixed traffic: latency per request type over time, a restart halfway, and checks
that nothing was lost, sent twice or billed wrong.

By default against ``ileti serve`` on SQLite; with ``--postgres URL``, ``ileti api`` + ``ileti
worker`` on that database (a fresh schema). The gateway is the ``ileti`` of the interpreter that
runs this file (``cd /work/base && .venv/bin/python /work/main/bench/soak.py`` measures that
checkout). Offered for ``--minutes`` (default 20; 3-5 give a useful first look), each on its own
schedule whatever the answers (an open loop: a request's latency runs from when it was due):

- ``--sends`` single ``/sms/send`` a second (150), each to a number and with a text of its own;
- a ``/group/send`` of ``--group-size`` recipients every ``--group-every`` s (5,000, 60 s);
- a ``/group/sendMixed`` of ``--mixed-size`` every ``--mixed-every`` s (1,000, 90 s);
- ``--otps`` ``/otp/send`` a second (5), each verified ``--verify-after`` s later (2) with the
  code its answer carries (``otp_code``), by ``/otp/verify``;
- ``--reads`` a second (20) in turn: ``/sms/status`` of a recent message, ``/reports/summary``,
  ``/reports/messages`` and ``/balance``.

Each kind of traffic has a key of its own, and every key a webhook to a receiver this script
starts (a process on loopback) that answers 500 to ``--fail-share`` of the deliveries (0.2), and
stalls ``--stall-seconds`` (3) before answering ``--stall-share`` of them (0.05); it checks both
signatures (``X-TurkeySMS-Signature`` and Standard Webhooks') of ``--sign-sample`` of them (0.1)
with a plain HMAC of its own. The operator is ``ileti smsc`` as a process of its own (reached
through a carriers file), which sends each receipt at a random time within
``--receipt-delay`` s (2) and counts every submit it receives across the gateway's restart. The
hourly OTP limits are off (``ILETI_OTP_PER_*_HOUR=0``): 5 OTPs/s are more than a country's
default. At ``--restart-at`` minutes (default: halfway; 0: never) every gateway process gets
SIGTERM and is started again while the traffic goes on; requests that fail while it is down are
counted apart, not as latency.

Printed: per request type and ``--bucket`` (60 s), answers, p50/p99/max latency, refusals and
failures; per bucket, messages accepted a second, refusals by code (with any ``Retry-After``),
the webhook outbox's pending events (and of them those due, not waiting for a retry) and the
dispatch queue (read from the database), the CPU of the gateway's processes and their children
(and PostgreSQL's), their memory, and how far this generator fell behind its own schedule.
Then, after the load and a drain of at most ``--drain-seconds`` (180): accepted == stored
messages, none left unfinished, every ledger exact (each balance equals the sum of its ledger
rows and its last ``balance_after``; debits equal the messages' cost, refunds the cost of those
that failed), no message submitted twice across the restart (the simulator's count by number
and text), every sampled signature valid. Exit code 1 if a check fails.

    .venv/bin/python bench/soak.py [--minutes 20] [--postgres URL] [--restart-at 10]
    .venv/bin/python bench/soak.py --minutes 3 --sends 150 --otps 5 --reads 20
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import math
import random
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from loadgen import Client, Reply, run
from served import (
    ILETI,
    Reader,
    Restart,
    Served,
    cpu_seconds,
    free_port,
    gateway,
    postgres_pids,
    rss_mb,
)

KINDS = (
    "/sms/send",
    "/otp/send",
    "/otp/verify",
    "/group/send",
    "/group/sendMixed",
    "/balance",
    "/sms/status",
    "/reports/summary",
    "/reports/messages",
)
OK_CODES = {"TS-1000", "TS-1024", "TS-1040", "TS-1064"}
FINAL = ("delivered", "failed", "expired")
# Failures this long after the gateway answers again still count as the restart's.
RESTART_GRACE = 1.0
SAMPLE_EVERY = 5.0  # seconds between readings of the database and the CPU


# -- the webhook receiver (a process of its own) --------------------------------------------


@dataclass
class ReceiverStats:
    deliveries: int = 0
    failed: int = 0  # answered 500 on purpose
    stalled: int = 0
    abandoned: int = 0  # stalled, and the sender had hung up by the end of the stall
    sampled: int = 0
    valid: int = 0
    invalid: list[str] = field(default_factory=list)  # which, and why
    events: set[str] = field(default_factory=set)
    acknowledged: set[str] = field(default_factory=set)
    again_after_2xx: int = 0  # an event delivered again after a 2xx answer
    again_at: list[float] = field(default_factory=list)  # when (epoch s), the first 1,000
    types: Counter[str] = field(default_factory=Counter)

    def report(self) -> dict[str, Any]:
        return {
            "deliveries": self.deliveries,
            "failed": self.failed,
            "stalled": self.stalled,
            "abandoned": self.abandoned,
            "sampled": self.sampled,
            "valid": self.valid,
            "invalid": len(self.invalid),
            "invalid_examples": self.invalid[:5],
            "distinct_events": len(self.events),
            "acknowledged": len(self.acknowledged),
            "again_after_2xx": self.again_after_2xx,
            "again_at": self.again_at[:1000],
            "types": dict(self.types),
        }


def signature_problem(secret: str, headers: dict[str, str], body: bytes) -> str | None:
    """Why a delivery's signatures do not verify with ``secret``; None if both do."""
    ours = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if ours not in [s.strip() for s in headers.get("x-turkeysms-signature", "").split(",")]:
        return "X-TurkeySMS-Signature"
    event_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{event_id}.{stamp}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    if expected not in headers.get("webhook-signature", "").split(" "):
        return "webhook-signature"
    return None


async def receive(args: argparse.Namespace) -> None:
    """Serves until SIGTERM, then prints its counts as one line of JSON."""
    stats = ReceiverStats()
    secrets_file = Path(args.receiver)
    known: dict[str, str] = {}
    chance = random.Random(args.seed)

    def secret_of(name: str) -> str | None:
        if name not in known and secrets_file.exists():
            known.update(json.loads(secrets_file.read_text()))
        return known.get(name)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, stall = answer(path, headers, body)
                if stall:
                    stats.stalled += 1
                    await asyncio.sleep(args.stall_seconds)
                    if reader.at_eof():  # the sender gave up on it (its timeout, a stop)
                        stats.abandoned += 1
                        return
                if status == 200:
                    acknowledge(headers.get("webhook-id", ""))
                reason = b"OK" if status == 200 else b"Internal Server Error"
                writer.write(b"HTTP/1.1 %d %s\r\ncontent-length: 0\r\n\r\n" % (status, reason))
        except (asyncio.IncompleteReadError, ConnectionError, IndexError, ValueError):
            pass
        except asyncio.CancelledError:
            return  # a stalled answer when the receiver stops: nothing to report
        finally:
            writer.close()

    def answer(path: str, headers: dict[str, str], body: bytes) -> tuple[int, bool]:
        """The status to answer, and whether to stall before it."""
        stats.deliveries += 1
        event_id = headers.get("webhook-id", "")
        stats.events.add(event_id)
        if chance.random() < args.sign_sample:
            verify(path, event_id, headers, body)
        draw = chance.random()
        if draw < args.stall_share:
            return 200, True
        if draw < args.stall_share + args.fail_share:
            stats.failed += 1
            return 500, False
        return 200, False

    def verify(path: str, event_id: str, headers: dict[str, str], body: bytes) -> None:
        stats.sampled += 1
        secret = secret_of(path.rsplit("/", 1)[-1])
        problem = "no secret for " + path if secret is None else None
        problem = problem or signature_problem(secret or "", headers, body)
        if problem is None:
            stats.valid += 1
            stats.types[json.loads(body).get("event_type", "?")] += 1
        else:
            stats.invalid.append(f"{event_id}: {problem}")

    def acknowledge(event_id: str) -> None:
        if event_id in stats.acknowledged:
            stats.again_after_2xx += 1
            stats.again_at.append(time.time())
        stats.acknowledged.add(event_id)

    server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    print(json.dumps(stats.report()), flush=True)


@dataclass
class Receiver:
    process: subprocess.Popen[str]
    port: int
    secrets_file: Path

    @classmethod
    def start(cls, workdir: Path, args: argparse.Namespace) -> Receiver:
        secrets_file = workdir / "webhook-secrets.json"
        command = [
            sys.executable, __file__, "--receiver", str(secrets_file),
            "--fail-share", str(args.fail_share), "--stall-share", str(args.stall_share),
            "--stall-seconds", str(args.stall_seconds), "--sign-sample", str(args.sign_sample),
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        return cls(process, int(process.stdout.readline()), secrets_file)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{name}"

    def stop(self) -> dict[str, Any]:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=30)
        return json.loads(out.strip().splitlines()[-1])


# -- the operator: ileti smsc as a process of its own ---------------------------------------


@dataclass
class Smsc:
    process: subprocess.Popen[bytes]
    stats_file: Path
    submissions_file: Path
    carriers_file: Path

    @classmethod
    def start(cls, workdir: Path, receipt_delay: float) -> Smsc:
        port = free_port()
        stats_file = workdir / "smsc-stats.json"
        submissions_file = workdir / "smsc-submissions.json"
        log = open(workdir / "smsc.log", "wb")  # noqa: SIM115 (lives as long as the process)
        process = subprocess.Popen(
            [*ILETI, "smsc", "--host", "127.0.0.1", "--port", str(port),
             "--receipt-delay", str(receipt_delay), "--outcomes", "delivered=1",
             "--stats-file", str(stats_file), "--submissions-file", str(submissions_file)],
            cwd=workdir, stdout=log, stderr=log,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not stats_file.exists():  # written once it listens
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit((workdir / "smsc.log").read_text())
            time.sleep(0.05)
        carriers_file = workdir / "carriers.toml"
        carriers_file.write_text(
            '[[carrier]]\nname = "smsc"\nhost = "127.0.0.1"\n'
            f'port = {port}\nsystem_id = "ileti"\npassword = "secret"\nbinds = 2\nwindow = 100\n'
        )
        return cls(process, stats_file, submissions_file, carriers_file)

    def stop(self) -> dict[str, int]:
        """Its counts, as it writes them when it exits."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return json.loads(self.stats_file.read_text())


# -- what the load saw ----------------------------------------------------------------------


def percentile(ordered: list[float], q: float) -> float:
    """Nearest rank of a sorted list."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Sample:
    """One reading of the database and the CPU, every SAMPLE_EVERY seconds."""

    at: float  # seconds since the start
    seconds: float  # since the reading before
    pending_events: int
    due_events: int  # of them, due now rather than waiting for a retry
    queued: int
    server_cpu: float  # seconds in the interval
    database_cpu: float
    generator_cpu: float
    rss_mb: float


@dataclass
class Seen:
    """Latencies and outcomes by request type and bucket of time."""

    bucket: float
    latencies: dict[tuple[int, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    refusals: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    refused_by_kind: Counter[tuple[int, str]] = field(default_factory=Counter)
    failures: Counter[tuple[int, str]] = field(default_factory=Counter)
    failure_kinds: Counter[str] = field(default_factory=Counter)
    restart_failures: Counter[str] = field(default_factory=Counter)
    retry_after: Counter[str] = field(default_factory=Counter)
    accepted: Counter[int] = field(default_factory=Counter)  # messages, by bucket
    accepted_singles: Counter[int] = field(default_factory=Counter)
    lag: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    samples: list[Sample] = field(default_factory=list)

    def at(self, since_start: float) -> int:
        return int(since_start // self.bucket)


@dataclass
class Totals:
    accepted: int = 0  # messages the answers say were accepted
    unanswered: int = 0  # messages of send requests that got no answer (may be stored)
    otps_verified: int = 0
    restart: Restart | None = None
    restart_window: tuple[float, float] | None = None  # since the start
    drained_after: float | None = None
    started_at: float = 0.0  # epoch s


class Soak:
    """The traffic, on one event loop; each kind of request on a schedule of its own."""

    def __init__(
        self, args: argparse.Namespace, served: Served, reader: Reader, keys: dict[str, str]
    ) -> None:
        self.args = args
        self.served = served
        self.reader = reader
        self.keys = keys
        self.seen = Seen(args.bucket)
        self.totals = Totals()
        self.client = Client(served.base_url, timeout=args.timeout, limit=2000)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.recent_ids: deque[int] = deque(maxlen=1000)
        self.duration = args.minutes * 60
        self.start = 0.0
        self.restarting_since: float | None = None
        self.restarted_at: float | None = None

    # -- scheduling

    def now(self) -> float:
        return asyncio.get_running_loop().time() - self.start

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def paced(
        self, every: float, first: float, fire: Callable[[int, float], Awaitable[None]]
    ) -> None:
        """``fire(n, due)`` at ``first``, ``first + every``, ... until the end; never waits
        for an answer, so the schedule holds however slow the server is."""
        n = 0
        while (due := first + n * every) < self.duration:
            delay = due - self.now()
            if delay > 0:
                await asyncio.sleep(delay)
            self.seen.lag[self.seen.at(due)].append(self.now() - due)
            self.spawn(fire(n, due))
            n += 1

    def in_restart(self, at: float) -> bool:
        if self.restarting_since is None or at < self.restarting_since:
            return False
        return self.restarted_at is None or at <= self.restarted_at + RESTART_GRACE

    async def call(self, kind: str, body: dict[str, Any], due: float) -> Reply | None:
        """One request; its answer if it was one the gateway gave in the normal course."""
        bucket = self.seen.at(due)
        try:
            reply = await self.client.post(kind, body)
        except (OSError, TimeoutError, ValueError) as error:
            if self.in_restart(self.now()):
                self.seen.restart_failures[kind] += 1
            else:
                self.seen.failures[(bucket, kind)] += 1
                self.seen.failure_kinds[f"{kind} {type(error).__name__}"] += 1
            return None
        answered = self.now()
        code = reply.result_code or f"HTTP {reply.status}"
        if reply.status >= 500 and code not in OK_CODES and self.in_restart(answered):
            self.seen.restart_failures[kind] += 1
            return None
        self.seen.latencies[(bucket, kind)].append((answered - due) * 1000)
        if reply.status != 200 or code not in OK_CODES:
            label = f"{code} ({reply.status})"
            self.seen.refusals[bucket][label] += 1
            self.seen.refused_by_kind[(bucket, kind)] += 1
            if (retry := reply.header("retry-after")) is not None:
                self.seen.retry_after[retry] += 1
        return reply

    def accepted(self, due: float, messages: int, *, single: bool = False) -> None:
        bucket = self.seen.at(due)
        self.seen.accepted[bucket] += messages
        if single:
            self.seen.accepted_singles[bucket] += messages
        self.totals.accepted += messages

    # -- the traffic

    async def single(self, n: int, due: float) -> None:
        body = {
            "api_key": self.keys["single"],
            "title": "ILETI",
            "sentto": f"9053{n:08d}",
            "text": f"Siparişiniz yola çıktı: {n}",
            "sms_lang": 1,
        }
        reply = await self.call("/sms/send", body, due)
        if reply is None:
            self.totals.unanswered += 1
        elif reply.result_code == "TS-1024":
            self.accepted(due, 1, single=True)
            self.recent_ids.append(int(reply.json()["sms_id"]))

    async def group(self, n: int, due: float) -> None:
        size = self.args.group_size
        body = {
            "api_key": self.keys["group"],
            "title": "ILETI",
            "text": f"Kampanya {n}: bu hafta sonu tüm ürünlerde %20 indirim!",
            "sms_lang": 1,
            "sentto": [f"9054{n * size + i:08d}" for i in range(size)],
        }
        await self.grouped("/group/send", body, due, size)

    async def mixed(self, n: int, due: float) -> None:
        size = self.args.mixed_size
        body = {
            "api_key": self.keys["group"],
            "title": "ILETI",
            "sms_lang": 1,
            "sentto": [f"9055{n * size + i:08d}" for i in range(size)],
            "text": [f"Sayın müşterimiz, siparişiniz {n}-{i} hazır." for i in range(size)],
        }
        await self.grouped("/group/sendMixed", body, due, size)

    async def grouped(self, kind: str, body: dict[str, Any], due: float, size: int) -> None:
        reply = await self.call(kind, body, due)
        if reply is None:
            self.totals.unanswered += size
        elif reply.result_code == "TS-1024":
            self.accepted(due, int(reply.json()["success_count"]))

    async def otp(self, n: int, due: float) -> None:
        body = {"api_key": self.keys["otp"], "mobile": f"90505{n:07d}", "lang": 0}
        reply = await self.call("/otp/send", body, due)
        if reply is None:
            self.totals.unanswered += 1
            return
        if reply.result_code != "TS-1024":
            return
        self.accepted(due, 1)
        sent = reply.json()
        await asyncio.sleep(self.args.verify_after)
        check = {"api_key": self.keys["otp"], "otp_id": sent["otp_id"], "code": sent["otp_code"]}
        verified = await self.call("/otp/verify", check, self.now())
        if verified is not None and verified.result_code == "TS-1064":
            self.totals.otps_verified += 1

    async def read(self, n: int, due: float) -> None:
        key = self.keys["read"]
        turn = n % 4
        if turn == 0 and self.recent_ids:
            await self.call("/sms/status", {"api_key": key, "sms_id": self.recent_ids[-1]}, due)
        elif turn == 1:
            await self.call("/reports/summary", {"api_key": key}, due)
        elif turn == 2:
            await self.call("/reports/messages", {"api_key": key}, due)
        else:
            await self.call("/balance", {"api_key": key}, due)

    # -- around the traffic

    async def restart(self, at: float) -> None:
        await asyncio.sleep(max(0.0, at - self.now()))
        self.restarting_since = self.now()
        print(f"{self.restarting_since:6.1f}s  SIGTERM to the gateway", flush=True)
        restart = await asyncio.to_thread(self.served.restart)
        self.restarted_at = self.now()
        self.totals.restart = restart
        self.totals.restart_window = (self.restarting_since, self.restarted_at)
        print(
            f"{self.restarted_at:6.1f}s  answering again (exit codes {restart.exit_codes}, "
            f"stopped in {restart.stop_seconds:.1f}s, started in {restart.start_seconds:.1f}s)",
            flush=True,
        )

    async def monitor(self, until: asyncio.Event) -> None:
        """Reads the outbox, the queue and the CPU every SAMPLE_EVERY s until ``until``."""
        postgres = self.args.postgres is not None
        server = cpu_seconds(self.served.pids())
        database = cpu_seconds(postgres_pids()) if postgres else {}
        generator = time.process_time()
        last = self.now()
        shown = 0
        while not until.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(until.wait(), SAMPLE_EVERY)
            # Pending events: all of them, and those due now (the others wait for a retry).
            outbox = self.reader.submit(
                "SELECT count(*), coalesce(sum(CASE WHEN due_ms <= $1 THEN 1 ELSE 0 END), 0)"
                " FROM webhook_events WHERE status = 'pending'",
                int(time.time() * 1000),
            )
            queue = self.reader.submit("SELECT count(*) FROM dispatch_queue")
            [(pending, due)], [(queued,)] = await asyncio.gather(
                asyncio.wrap_future(outbox), asyncio.wrap_future(queue)
            )
            pids = self.served.pids()
            server_now = cpu_seconds(pids)
            database_now = cpu_seconds(postgres_pids()) if postgres else {}
            generator_now = time.process_time()
            at = self.now()
            self.seen.samples.append(
                Sample(
                    at=at,
                    seconds=at - last,
                    pending_events=int(pending),
                    due_events=int(due),
                    queued=int(queued),
                    server_cpu=sum(t - server.get(p, 0.0) for p, t in server_now.items()),
                    database_cpu=sum(t - database.get(p, 0.0) for p, t in database_now.items()),
                    generator_cpu=generator_now - generator,
                    rss_mb=rss_mb(pids),
                )
            )
            server, database, generator, last = server_now, database_now, generator_now, at
            if self.seen.at(at) > shown and at <= self.duration:
                self.progress(shown)
                shown = self.seen.at(at)

    def progress(self, bucket: int) -> None:
        """A line as each bucket ends, so that a long soak shows how it goes."""
        seen = self.seen
        sends = sorted(seen.latencies.get((bucket, "/sms/send"), []))
        samples = [s for s in seen.samples if seen.at(s.at - 1e-9) == bucket]
        cpu = sum(s.server_cpu for s in samples) / (sum(s.seconds for s in samples) or math.nan)
        pending = samples[-1].pending_events if samples else 0
        print(
            f"{(bucket + 1) * seen.bucket:6.0f}s  accepted "
            f"{seen.accepted[bucket] / seen.bucket:,.0f} messages/s; /sms/send p50 "
            f"{percentile(sends, 0.5):,.0f} ms, p99 {percentile(sends, 0.99):,.0f} ms; "
            f"CPU {cpu:.0%}; {pending:,} webhook events pending",
            flush=True,
        )

    async def run(self) -> None:
        self.start = asyncio.get_running_loop().time()
        self.totals.started_at = time.time()
        a = self.args
        # (requests a second, the first one's offset in seconds, what each does); 0: none.
        offered = [
            (a.sends, 0.0, self.single),
            (1 / a.group_every if a.group_every else 0, 5.0, self.group),
            (1 / a.mixed_every if a.mixed_every else 0, 20.0, self.mixed),
            (a.otps, 0.1, self.otp),
            (a.reads, 0.05, self.read),
        ]
        streams = [self.paced(1 / rate, first, fire) for rate, first, fire in offered if rate > 0]
        stopped = asyncio.Event()
        watcher = asyncio.create_task(self.monitor(stopped))
        restart = a.minutes / 2 if a.restart_at is None else a.restart_at
        if 0 < restart < a.minutes:
            self.spawn(self.restart(restart * 60))
        await asyncio.gather(*streams)
        print(f"{self.now():6.1f}s  load over; waiting for {len(self.tasks)} answers", flush=True)
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=a.timeout + a.verify_after + 10)
        for task in list(self.tasks):
            task.cancel()
        self.client.close()
        self.totals.drained_after = await self.drain()
        stopped.set()
        await watcher

    async def drain(self) -> float | None:
        """Seconds until every stored message was final (None: not within the bound)."""
        began = self.now()
        while self.now() - began < self.args.drain_seconds:
            rows = await asyncio.wrap_future(
                self.reader.submit(
                    "SELECT count(*) FROM messages WHERE status IN ('queued', 'sent')"
                )
            )
            if rows[0][0] == 0:
                return self.now() - began
            await asyncio.sleep(1.0)
        return None


# -- the report -----------------------------------------------------------------------------


def latency_table(seen: Seen, buckets: int) -> None:
    width = seen.bucket
    print(f"\nlatency by request type, per {width:g} s (ms, from when each request was due)")
    print(
        f"{'request':<18} {'from':>6} {'answers':>8} {'p50':>8} {'p99':>8} {'max':>8} "
        f"{'refused':>8} {'failed':>7}"
    )
    for kind in KINDS:
        for bucket in range(buckets):
            ordered = sorted(seen.latencies.get((bucket, kind), []))
            refused = seen.refused_by_kind[(bucket, kind)]
            failed = seen.failures[(bucket, kind)]
            if not ordered and not failed:
                continue
            print(
                f"{kind:<18} {bucket * width / 60:>5.1f}m {len(ordered):>8,} "
                f"{percentile(ordered, 0.5):>8.1f} {percentile(ordered, 0.99):>8.1f} "
                f"{(ordered[-1] if ordered else math.nan):>8.1f} {refused:>8,} {failed:>7,}"
            )


def overview_table(seen: Seen, buckets: int, postgres: bool) -> None:
    width = seen.bucket
    print(
        f"\nper {width:g} s: messages accepted a second (of them singles), the gateway's CPU "
        "(share of one core), the webhook events pending (of them due now, not waiting for a "
        "retry) and the messages queued at its end"
    )
    database = " PG CPU" if postgres else ""
    print(
        f"{'from':>6} {'acc/s':>7} {'single/s':>8} {'CPU':>6}{database} {'RSS MB':>7} "
        f"{'events pending':>14} {'due':>7} {'queued':>8} {'lag p99':>8} {'lag max':>8} "
        f"{'gen CPU':>7}  refusals"
    )
    for bucket in range(buckets):
        samples = [s for s in seen.samples if bucket * width < s.at <= (bucket + 1) * width]
        seconds = sum(s.seconds for s in samples) or math.nan
        lag = sorted(seen.lag.get(bucket, []))
        pg = f" {sum(s.database_cpu for s in samples) / seconds:>6.0%}" if postgres else ""
        last = samples[-1] if samples else None
        refusals = ", ".join(f"{k}: {v:,}" for k, v in sorted(seen.refusals[bucket].items()))
        print(
            f"{bucket * width / 60:>5.1f}m {seen.accepted[bucket] / width:>7,.0f} "
            f"{seen.accepted_singles[bucket] / width:>8,.0f} "
            f"{sum(s.server_cpu for s in samples) / seconds:>6.0%}{pg} "
            f"{(last.rss_mb if last else math.nan):>7,.0f} "
            f"{(last.pending_events if last else 0):>14,} {(last.due_events if last else 0):>7,} "
            f"{(last.queued if last else 0):>8,} "
            f"{percentile(lag, 0.99) * 1000:>6.0f}ms {(lag[-1] if lag else 0) * 1000:>6.0f}ms "
            f"{sum(s.generator_cpu for s in samples) / seconds:>7.0%}  {refusals or '-'}"
        )


def outbox_over_time(seen: Seen) -> None:
    points = ", ".join(
        f"{s.at / 60:.1f}m {s.pending_events:,} ({s.due_events:,})" for s in seen.samples[::6]
    )
    print(f"\nwebhook events pending (due now) every {SAMPLE_EVERY * 6:g} s: {points}")


# -- the end-state checks -------------------------------------------------------------------


class Verdicts:
    def __init__(self) -> None:
        self.failed = 0

    def __call__(self, passed: bool, text: str) -> None:
        self.failed += not passed
        print(f"  [{'ok' if passed else 'FAILED'}] {text}")


def database_facts(reader: Reader) -> dict[str, Any]:
    """What the checks need from the gateway's database, read while it still exists."""
    return {
        "states": dict(reader.rows("SELECT status, count(*) FROM messages GROUP BY status")),
        "queue": reader.one("SELECT count(*) FROM dispatch_queue"),
        "parts": reader.one("SELECT count(*) FROM message_parts"),
        "events": dict(reader.rows("SELECT status, count(*) FROM webhook_events GROUP BY status")),
        "accounts": reader.rows("SELECT id, name, credits, international_kurus FROM accounts"),
        "ledger": reader.rows(
            "SELECT account_id, balance, kind, sum(amount) FROM credit_ledger"
            " GROUP BY account_id, balance, kind"
        ),
        "last": reader.rows(
            "SELECT account_id, balance, balance_after FROM credit_ledger AS l"
            " WHERE id = (SELECT max(id) FROM credit_ledger AS m"
            " WHERE m.account_id = l.account_id AND m.balance = l.balance)"
        ),
        "costs": reader.rows(
            "SELECT account_id, cost_balance, sum(cost),"
            " sum(CASE WHEN status IN ('failed', 'expired') THEN cost ELSE 0 END)"
            " FROM messages GROUP BY account_id, cost_balance"
        ),
    }


def check_ledgers(facts: dict[str, Any], verdict: Verdicts) -> None:
    sums: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    for account, balance, kind, amount in facts["ledger"]:
        sums[(account, balance)][kind] += int(amount)
    last = {(a, b): int(after) for a, b, after in facts["last"]}
    costs = {(a, b): (int(c), int(unpaid)) for a, b, c, unpaid in facts["costs"]}
    for account, name, credits, kurus in facts["accounts"]:
        for balance, held in (("main", int(credits)), ("international", int(kurus))):
            entries = sums.get((account, balance), Counter())
            total = sum(entries.values())
            cost, unpaid = costs.get((account, balance), (0, 0))
            debits, refunds = -entries.get("debit", 0), entries.get("refund", 0)
            exact = (
                total == held
                and last.get((account, balance), 0) == held
                and debits == cost
                and refunds == unpaid
            )
            if not entries and not held and not cost:
                continue
            verdict(
                exact,
                f"ledger of {name} ({balance}): balance {held:,} = sum of its rows {total:,} = "
                f"last balance_after {last.get((account, balance), 0):,}; debits {debits:,} = "
                f"messages' cost {cost:,}; refunds {refunds:,} = cost of failed {unpaid:,}",
            )


def check(
    totals: Totals,
    facts: dict[str, Any],
    smsc: dict[str, int],
    receiver: dict[str, Any],
) -> bool:
    print("\nend state")
    verdict = Verdicts()
    states = facts["states"]
    stored = sum(states.values())
    if totals.unanswered:
        verdict(
            totals.accepted <= stored <= totals.accepted + totals.unanswered,
            f"{totals.accepted:,} messages accepted, {stored:,} stored; {totals.unanswered:,} "
            "in requests that got no answer (each may or may not have been stored)",
        )
    else:
        verdict(stored == totals.accepted, f"{totals.accepted:,} accepted, {stored:,} stored")
    unfinished = stored - sum(states.get(s, 0) for s in FINAL)
    drained = (
        f"all final {totals.drained_after:.1f}s after the load"
        if totals.drained_after is not None
        else "NOT all final within the drain"
    )
    verdict(
        unfinished == 0 and facts["queue"] == 0,
        f"{unfinished:,} messages stuck, {facts['queue']:,} left in the dispatch queue "
        f"({drained}): {states}",
    )
    check_ledgers(facts, verdict)
    verdict(
        smsc["duplicate_submissions"] == 0 and smsc["unique_submissions"] == facts["parts"],
        f"submits all distinct across the restart: the operator took {smsc['accepted']:,} "
        f"submits, {smsc['unique_submissions']:,} distinct (number and text), "
        f"{smsc['duplicate_submissions']:,} repeated; {facts['parts']:,} parts recorded",
    )
    verdict(
        receiver["sampled"] > 0 and receiver["invalid"] == 0,
        f"signatures: {receiver['valid']:,} of {receiver['sampled']:,} sampled deliveries valid"
        + (f" (e.g. {receiver['invalid_examples']})" if receiver["invalid"] else ""),
    )
    print(
        f"  webhooks: {receiver['deliveries']:,} deliveries of {receiver['distinct_events']:,} "
        f"events ({receiver['failed']:,} answered 500, {receiver['stalled']:,} stalled, "
        f"{receiver['abandoned']:,} of them abandoned by the sender); "
        f"{receiver['acknowledged']:,} acknowledged, {receiver['again_after_2xx']:,} delivered "
        f"again after a 2xx; outbox at the end: {facts['events']}; sampled types "
        f"{receiver['types']}"
    )
    if receiver["again_at"]:
        minutes = Counter(int((at - totals.started_at) // 60) for at in receiver["again_at"])
        when = ", ".join(f"minute {m}: {n:,}" for m, n in sorted(minutes.items()))
        print(f"  delivered again after a 2xx, by minute of the soak: {when}")
    print(f"  OTPs verified: {totals.otps_verified:,}")
    return verdict.failed == 0


# -- setting up -----------------------------------------------------------------------------


def make_keys(served: Served, receiver: Receiver) -> dict[str, str]:
    """A key per kind of traffic, each with a webhook to the receiver; the secrets go to the
    receiver's file."""
    keys: dict[str, str] = {}
    secrets_: dict[str, str] = {}
    for name in ("single", "otp", "group", "read"):
        keys[name] = served.unlimited_key()
        out = served.ileti("webhook", "set", keys[name], "--url", receiver.url(name))
        secrets_[name] = out.strip().splitlines()[-1]
    receiver.secrets_file.write_text(json.dumps(secrets_))
    return keys


def soak(args: argparse.Namespace) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix="ileti-soak-"))
    # A long soak holds many connections while the server is slow.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    smsc = Smsc.start(workdir, args.receipt_delay)
    receiver = Receiver.start(workdir, args)
    env = {
        "ILETI_CARRIERS_FILE": str(smsc.carriers_file),
        "ILETI_WEBHOOK_ALLOW_PRIVATE": "1",
        "ILETI_OTP_PER_NUMBER_HOUR": "0",
        "ILETI_OTP_PER_COUNTRY_HOUR": "0",
        # One key for every process (api, worker, the admin commands) on PostgreSQL.
        "ILETI_SECRET_KEY": secrets.token_urlsafe(32),
    }
    smsc_stats: dict[str, int] = {}
    receiver_stats: dict[str, Any] = {}
    try:
        with gateway(args.postgres, env) as served:
            served.ileti("account", "topup", "demo", "--credits", "1000000000")
            served.ileti("account", "set", "demo", "--otp-title", "ILETI")
            keys = make_keys(served, receiver)
            reader = Reader.of(served)
            try:
                print(
                    f"soak of {args.minutes:g} min on {served.label} (files in {workdir}); "
                    f"offered: {args.sends:g} sends/s, a group of {args.group_size:,} every "
                    f"{args.group_every:g}s, a mixed group of {args.mixed_size:,} every "
                    f"{args.mixed_every:g}s, {args.otps:g} OTPs/s with verifications, "
                    f"{args.reads:g} reads/s",
                    flush=True,
                )
                load = Soak(args, served, reader, keys)
                run(load.run())
                facts = database_facts(reader)
            finally:
                reader.close()
    finally:
        smsc_stats = smsc.stop()
        receiver_stats = receiver.stop()
    report(load, args)
    return check(load.totals, facts, smsc_stats, receiver_stats)


def report(load: Soak, args: argparse.Namespace) -> None:
    seen, totals = load.seen, load.totals
    buckets = math.ceil(load.duration / seen.bucket)
    latency_table(seen, buckets)
    overview_table(seen, buckets, args.postgres is not None)
    outbox_over_time(seen)
    restart = totals.restart_window
    print(
        "\nrestart: "
        + (
            f"SIGTERM at {restart[0]:.1f}s, answering again at {restart[1]:.1f}s; "
            f"requests that failed meanwhile: {dict(load.seen.restart_failures) or 'none'}"
            if restart
            else "none"
        )
    )
    print(f"failures outside the restart: {dict(seen.failure_kinds) or 'none'}")
    print(f"Retry-After values seen: {dict(seen.retry_after) or 'none'}")
    lags = sorted(lag for values in seen.lag.values() for lag in values)
    late = sum(1 for lag in lags if lag > 0.1)
    print(
        f"generator: {len(lags):,} requests due, lag p99 {percentile(lags, 0.99) * 1000:.1f} ms, "
        f"max {(lags[-1] if lags else 0) * 1000:.1f} ms"
        + (f"; {late:,} sent more than 100 ms late: it fell behind" if late else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--postgres", help="run ileti api + ileti worker on this database")
    parser.add_argument("--sends", type=float, default=150.0, help="/sms/send a second")
    parser.add_argument("--group-size", type=int, default=5000)
    parser.add_argument("--group-every", type=float, default=60.0, help="seconds")
    parser.add_argument("--mixed-size", type=int, default=1000)
    parser.add_argument("--mixed-every", type=float, default=90.0, help="seconds")
    parser.add_argument("--otps", type=float, default=5.0, help="/otp/send a second")
    parser.add_argument("--verify-after", type=float, default=2.0, help="seconds")
    parser.add_argument("--reads", type=float, default=20.0, help="status and report reads/s")
    parser.add_argument("--fail-share", type=float, default=0.2, help="webhooks answered 500")
    parser.add_argument("--stall-share", type=float, default=0.05, help="webhooks stalled")
    parser.add_argument("--stall-seconds", type=float, default=3.0)
    parser.add_argument("--sign-sample", type=float, default=0.1, help="signatures checked")
    parser.add_argument("--receipt-delay", type=float, default=2.0, help="simulator, seconds")
    parser.add_argument(
        "--restart-at", type=float, help="minutes (default: halfway; 0: no restart)"
    )
    parser.add_argument("--bucket", type=float, default=60.0, help="seconds per table row")
    parser.add_argument("--timeout", type=float, default=120.0, help="per request, seconds")
    parser.add_argument("--drain-seconds", type=float, default=180.0)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--receiver", help=argparse.SUPPRESS)  # run as the webhook receiver
    args = parser.parse_args()
    if args.receiver:
        run(receive(args))
        return
    sys.exit(0 if soak(args) else 1)


if __name__ == "__main__":
    main()
