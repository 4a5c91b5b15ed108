"""``/sms/send`` under load: accepted messages per second, latency and the server's CPU per
message, then delivery.

By default against ``ileti serve`` on SQLite (API, dispatcher and the built-in simulator in one
process). With ``--postgres URL`` it runs ``ileti api`` and ``ileti worker`` as two processes on
that PostgreSQL database (a fresh schema), the simulator inside the worker. The gateway is the
``ileti`` of the interpreter that runs this file, so another checkout is measured with its own:
``cd /work/base && .venv/bin/python /work/main/bench/send.py``.

The load comes from ``wrk`` (a C generator, ``apt-get install -y wrk``), which costs the machine
about a tenth of the CPU the server spends, with ``bench/wrk/sends.lua``: every request has a
number and a text of its own, and the answers are counted by ``result_code``. Each load is:

1. a closed loop per ``--connections`` count (default 64): each connection sends its next request
   once the last is answered, so the rate is what the server takes at that concurrency;
2. a fixed rate (``--rate``, default 2,000/s) with ``bench/wrk/paced.lua`` on
   ``--paced-connections`` (default 256): requests are scheduled 1/rate apart, but wrk times each
   from when it was sent, so a server slower than connections / rate would push sends late and
   hide its queueing (coordinated omission). The late sends are counted and printed: when there
   are none, the latencies are those of the schedule.

For each: requests and accepted (TS-1024) per second, latency p50/p90/p99/max, the CPU time of
every gateway process and its children (``/proc/PID/stat``, user + system) per accepted request,
during the load and until its backlog was delivered, and their resident memory; on PostgreSQL
also the CPU of the database server's processes (all of them: nothing else should use it), on
SQLite the share of the load's time its one turn to write was held (near 100 %, the single
writer is what limits it, whatever the CPU says). On PostgreSQL, at the end, how many of the
updates of ``messages`` were HOT (in place, no new index entry). Each load's backlog is
delivered before the next starts, and every accepted message must reach the operator
(``delivered``); the exit code is 1 if one did not.

``--generator python`` (or ``both``) runs the Python generator of ``loadgen.py`` instead (or as
well): closed loops per ``--concurrency`` and an open loop at ``--rate`` on
``--open-concurrency`` connections, timed from each request's scheduled send (so it shows
queueing). The generator is not what limits it: on a 2-core machine one Python process held
1,963 of 2,000 requests/s at 12 % of a core on 256 connections, while the server could take
that (at 64 connections no generator can once latency passes 64 / 2,000 s = 32 ms). Its
latencies include its own scheduling delays, so they read a little higher than wrk's.

    .venv/bin/python bench/send.py [--duration 10] [--connections 64,256] [--rate 2000]
    .venv/bin/python bench/send.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/send.py --generator both [--concurrency 64,256,512]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from loadgen import LoadResult, RequestSource, run, run_load
from served import (
    Served,
    cpu_seconds,
    gateway,
    message_states,
    postgres_pids,
    rss_mb,
    updated_in_place,
)

WRK = Path(__file__).parent / "wrk"
FINAL = ("delivered", "failed", "expired")
ACCEPTED = "TS-1024"


def sends(key: str, offset: int) -> RequestSource:
    def body(i: int) -> dict[str, object]:
        return {
            "api_key": key,
            "title": "ILETI",
            "sentto": f"9053{(offset + i) % 100_000_000:08d}",
            "text": f"Siparişiniz yola çıktı: {offset + i}",
            "sms_lang": 1,
        }

    return RequestSource("/sms/send", body)


@dataclass
class Load:
    """What one load phase gave, whichever generator made it."""

    label: str
    requests: int
    accepted: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    codes: dict[str, int]
    client_cpu: float  # the generator's CPU time over the load's wall time
    late: str = ""  # paced runs: sends that left after their slot
    server_cpu: float = 0.0  # seconds, during the load
    server_cpu_drained: float = 0.0  # seconds, until its backlog was delivered
    database_cpu: float | None = None  # PostgreSQL's seconds, until delivered
    writer: dict[str, float] | None = None  # SQLite's turn to write: seconds per phase
    rss_mb: float = 0.0
    delivered: bool = False

    def per_accepted_us(self, seconds: float) -> float:
        return seconds / self.accepted * 1e6 if self.accepted else float("nan")

    def format(self) -> str:
        codes = "  ".join(f"{k}: {v:,}" for k, v in sorted(self.codes.items()))
        cpu = (
            f"  server CPU {self.server_cpu / self.seconds:.0%} of a core; per accepted request "
            f"{self.per_accepted_us(self.server_cpu):,.0f} µs during the load, "
            f"{self.per_accepted_us(self.server_cpu_drained):,.0f} µs until delivered"
        )
        if self.database_cpu is not None:
            cpu += f" (+ PostgreSQL {self.per_accepted_us(self.database_cpu):,.0f} µs)"
        lines = [
            f"{self.label}: {self.requests / self.seconds:,.0f} requests/s, "
            f"{self.accepted / self.seconds:,.0f} accepted/s ({self.requests:,} in "
            f"{self.seconds:.1f}s), {self.errors:,} errors, generator CPU {self.client_cpu:.0%}",
            f"  latency ms  p50 {self.p50_ms:.1f}  p90 {self.p90_ms:.1f}  p99 {self.p99_ms:.1f}  "
            f"max {self.max_ms:.1f}" + (f"; {self.late}" if self.late else ""),
            f"  result_code {codes}",
            cpu + f"; RSS of its processes together {self.rss_mb:,.0f} MB",
        ]
        if self.writer is not None:
            lines.append(
                f"  SQLite's turn to write held {self.writer['holding'] / self.seconds:.0%} of "
                f"the load (waited for {self.writer['waiting']:.1f}s by all writers together)"
            )
        return "\n".join(lines)


def children_cpu() -> float:
    """CPU seconds of this process's children that ended (wrk, once it is waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk_load(
    served: Served,
    key: str,
    *,
    connections: int,
    threads: int,
    duration: float,
    offset: int,
    rate: float | None = None,
) -> Load:
    """One wrk run: closed loop, or paced at ``rate`` requests/s."""
    script = "paced.lua" if rate else "sends.lua"
    threads = max(1, min(threads, connections))
    args = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s",
        # An answer later than this is an error, not a latency: wrk's default is 2 s.
        "--timeout", "60s", "-s", str(WRK / script), served.base_url, "--", key, str(offset),
    ]  # fmt: skip
    if rate:
        args += [f"{rate:g}", str(threads)]
    before = children_cpu()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("wrk-result ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = json.loads(line.removeprefix("wrk-result "))
    seconds = result["duration_us"] / 1e6
    latency = {name: us / 1000 for name, us in result["latency_us"].items()}
    codes = dict(result["codes"])
    if result["unparsed"]:
        codes["(no result_code)"] = result["unparsed"]
    label = (
        f"wrk at {rate:,.0f}/s, {connections} connections"
        if rate
        else f"wrk closed loop, {connections} connections"
    )
    late = ""
    if rate:
        late = (
            f"{result['late']:,} sends late (by at most {result['late_max_ms']:.0f} ms: the rate "
            "was not held and these latencies understate the queueing)"
            if result["late"]
            else "every send on its schedule"
        )
    return Load(
        label=label,
        requests=result["requests"],
        accepted=codes.get(ACCEPTED, 0),
        seconds=seconds,
        p50_ms=latency["p50"],
        p90_ms=latency["p90"],
        p99_ms=latency["p99"],
        max_ms=latency["max"],
        errors=sum(result["errors"].values()),
        codes=codes,
        client_cpu=(children_cpu() - before) / seconds,
        late=late,
    )


def python_load(
    served: Served,
    key: str,
    *,
    connections: int,
    duration: float,
    offset: int,
    rate: float | None = None,
) -> Load:
    """One run of loadgen.py's generator in this process: closed loop, or open at ``rate``."""
    result: LoadResult = run(
        run_load(
            served.base_url,
            sends(key, offset),
            concurrency=connections,
            duration=duration,
            rate=rate,
        )
    )
    label = (
        f"Python open loop at {rate:,.0f}/s, {connections} connections"
        if rate
        else f"Python closed loop, {connections} connections"
    )
    return Load(
        label=label,
        requests=result.requests,
        accepted=result.result_codes.get(ACCEPTED, 0),
        seconds=result.elapsed,
        p50_ms=result.p50_ms,
        p90_ms=result.p90_ms,
        p99_ms=result.p99_ms,
        max_ms=result.max_ms,
        errors=result.errors,
        codes=dict(result.result_codes),
        client_cpu=result.client_cpu,
    )


def spent(before: dict[int, float], pids: list[int]) -> float:
    """CPU seconds ``pids`` spent since ``before`` (a process new since then: all of its)."""
    return sum(t - before.get(pid, 0.0) for pid, t in cpu_seconds(pids).items())


def measured(served: Served, postgres: bool, stored_before: int, make: Callable[[], Load]) -> Load:
    """Runs ``make()`` (a load) between readings of the gateway's CPU, then waits for its
    backlog to be delivered and reads them again."""
    server_start = cpu_seconds(served.pids())
    database_start = cpu_seconds(postgres_pids()) if postgres else {}
    writer_start = None if postgres else writer_seconds(served)
    result = make()
    result.server_cpu = spent(server_start, served.pids())
    if writer_start is not None:
        writer_end = writer_seconds(served)
        result.writer = {phase: writer_end[phase] - writer_start[phase] for phase in writer_end}
    result.rss_mb = rss_mb(served.pids())
    states = wait_delivered(served, stored_before + result.accepted)
    result.server_cpu_drained = spent(server_start, served.pids())
    if postgres:
        result.database_cpu = spent(database_start, postgres_pids())
    stored = sum(states.values())
    delivered = states.get("delivered", 0)
    result.delivered = stored >= stored_before + result.accepted and delivered == stored
    return result


def writer_seconds(served: Served) -> dict[str, float]:
    """Seconds SQLite's turn to write was waited for and held so far, from ``/metrics``."""
    text = urllib.request.urlopen(f"{served.base_url}/metrics", timeout=10).read().decode()
    seconds = dict.fromkeys(("waiting", "holding"), 0.0)
    for phase, value in re.findall(
        r'^ileti_sqlite_writer_seconds_total\{phase="(\w+)"\} (\S+)$', text, re.M
    ):
        seconds[phase] = float(value)
    return seconds


def wait_delivered(served: Served, accepted: int, limit: float = 120.0) -> dict[str, int]:
    """Until every stored message is final (or ``limit`` s pass); the states then. The stored
    ones can be a few more than the answers counted: requests still in flight when a load phase
    ends are not counted."""
    started = time.monotonic()
    while True:
        states = message_states(served)
        final = sum(states.get(s, 0) for s in FINAL)
        if final >= max(accepted, sum(states.values())) or time.monotonic() - started > limit:
            break
        time.sleep(0.5)
    print(
        f"{accepted:,} answered TS-1024; {sum(states.values()):,} stored; all final "
        f"{time.monotonic() - started:.1f}s after the load: {states}"
    )
    return states


def plan(args: argparse.Namespace, served: Served, key: str) -> list[Callable[[], Load]]:
    """The loads to run, in order, each a function that runs one."""
    loads: list[Callable[[], Load]] = []
    if args.generator in ("wrk", "both"):
        for number, connections in enumerate(args.connections):
            loads.append(
                lambda c=connections, n=number: wrk_load(
                    served, key, connections=c, threads=args.threads,
                    duration=args.duration, offset=(n + 1) * 1_000_000_000,
                )
            )  # fmt: skip
        loads.append(
            lambda: wrk_load(
                served, key, connections=args.paced_connections, threads=args.threads,
                duration=args.duration, offset=9_000_000_000, rate=args.rate,
            )
        )  # fmt: skip
    if args.generator in ("python", "both"):
        for number, connections in enumerate(args.concurrency):
            loads.append(
                lambda c=connections, n=number: python_load(
                    served, key, connections=c, duration=args.duration, offset=n * 10_000_000
                )
            )
        loads.append(
            lambda: python_load(
                served, key, connections=args.open_concurrency, duration=args.duration,
                offset=90_000_000, rate=args.rate,
            )
        )  # fmt: skip
    return loads


def counts(text: str) -> list[int]:
    return [int(c) for c in text.split(",") if c.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each load")
    parser.add_argument(
        "--generator", choices=("wrk", "python", "both"), default="wrk", help="default: wrk"
    )
    parser.add_argument(
        "--connections", type=counts, default=[64], help="wrk closed loops, e.g. 64,256"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rate", type=float, default=2000.0, help="fixed rate, requests/s")
    parser.add_argument(
        "--paced-connections", type=int, default=256, help="wrk connections at the fixed rate"
    )
    parser.add_argument(
        "--concurrency", type=counts, default=[64, 256, 512], help="Python closed loops"
    )
    parser.add_argument(
        "--open-concurrency", type=int, default=256, help="Python open loop connections"
    )
    parser.add_argument("--postgres", help="run ileti api + ileti worker on this database")
    args = parser.parse_args()
    if args.generator != "python" and shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: apt-get install -y wrk (or run with --generator python)"
        )

    results: list[Load] = []
    with gateway(args.postgres) as served:
        key = served.unlimited_key()
        served.ileti("account", "topup", "demo", "--credits", "1000000000")
        print(f"/sms/send on {served.label}")
        for make in plan(args, served, key):
            stored = sum(message_states(served).values())
            load = measured(served, args.postgres is not None, stored, make)
            print(load.format())
            results.append(load)
        if args.postgres:
            time.sleep(1.5)  # each backend's statistics reach the server within a second
            updates, hot = updated_in_place(served)
            print(f"messages updated in place (HOT): {hot:,} of {updates:,} updates")
    summary(results)
    if not all(load.delivered for load in results):
        print("SOME ACCEPTED MESSAGES DID NOT REACH THE OPERATOR")
        sys.exit(1)


def summary(results: list[Load]) -> None:
    print(
        f"\n{'load':<44} {'req/s':>7} {'acc/s':>7} {'p50':>7} {'p90':>7} {'p99':>7} "
        f"{'max':>7} {'µs/acc':>7} {'drained':>7} {'RSS MB':>7}  delivered"
    )
    for r in results:
        print(
            f"{r.label:<44} {r.requests / r.seconds:>7,.0f} {r.accepted / r.seconds:>7,.0f} "
            f"{r.p50_ms:>7.1f} {r.p90_ms:>7.1f} {r.p99_ms:>7.1f} {r.max_ms:>7.1f} "
            f"{r.per_accepted_us(r.server_cpu):>7,.0f} "
            f"{r.per_accepted_us(r.server_cpu_drained):>7,.0f} {r.rss_mb:>7,.0f}  "
            + ("all" if r.delivered else "NOT ALL")
        )
    print(
        "(latency in ms; µs/acc: the gateway's CPU per accepted request during the load, "
        "drained: until its backlog was delivered)"
    )


if __name__ == "__main__":
    main()
