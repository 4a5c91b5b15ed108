"""Large groups against the event loop: ``/auth/check`` latency while clients post groups of
100,000 numbers in a loop.

    .venv/bin/python bench/stall.py [--duration 10] [--clients 4] [--rate 200] [--scenario …]

Three scenarios, each on ``ileti serve`` (SQLite) with a key of its own account:

- ``broke``: an account with no credits posts 100,000 entries that are no numbers (about
  0.5 MB, the hostile client of issue 16);
- ``invalid``: an account with credits enough posts the same body, so every entry is read
  before the group is refused (TS-1034);
- ``valid``: an account with credits posts 100,000 Turkish mobiles, accepted and stored.

Meanwhile ``/auth/check`` is called at a fixed rate (open loop: latency counts from when a
request was due) by another key. Prints its p50/p99/max and the groups answered per second.
It only talks HTTP, so it runs against an older release too:
``cd /work/base && .venv/bin/python /work/main/bench/stall.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from loadgen import LoadResult, RequestSource, run, run_load
from served import Served, gateway, message_states

KEY = re.compile(r"ilt_[0-9a-f]{10}_[A-Za-z0-9_-]{43}")
RECIPIENTS = 100_000
SCENARIOS = ("broke", "invalid", "valid")


def account_key(served: Served, name: str, credits: int) -> str:
    """A new account with the active title ILETI and an unlimited key."""
    served.ileti("account", "create", name, "--credits", str(credits))
    served.ileti("title", "add", name, "ILETI", "--active")
    match = KEY.search(served.ileti("key", "create", name, "--per-minute", "0"))
    assert match is not None
    return match.group(0)


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used (user and system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_bodies(key: str, valid: bool) -> Callable[[int], bytes]:
    """The n-th request's body: the same numbers, a text of its own (so that no request is the
    repeat of another, answered from what was kept for it)."""
    numbers = (
        [f"9053{n:08d}" for n in range(RECIPIENTS)]
        if valid
        else [str(n % 1000) for n in range(RECIPIENTS)]
    )
    body = {"api_key": key, "title": "ILETI", "sentto": numbers}
    head = json.dumps(body, separators=(",", ":")).encode()[:-1]
    return lambda n: head + b',"text":"Kampanya %d"}' % n


async def under_load(
    served: Served, auth_key: str, body: Callable[[int], bytes], args: argparse.Namespace
) -> tuple[LoadResult, LoadResult]:
    groups = run_load(
        served.base_url,
        RequestSource("/group/send", body),
        concurrency=args.clients,
        duration=args.duration,
        request_timeout=300,
    )
    checks = run_load(
        served.base_url,
        RequestSource("/auth/check", {"api_key": auth_key}),
        concurrency=16,
        duration=args.duration,
        rate=args.rate,
    )
    group_result, check_result = await asyncio.gather(groups, checks)
    return group_result, check_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4, help="connections posting groups")
    parser.add_argument("--rate", type=float, default=200.0, help="/auth/check per second")
    parser.add_argument("--scenario", choices=SCENARIOS, action="append")
    args = parser.parse_args()
    scenarios = args.scenario or list(SCENARIOS)
    # Bodies of 100,000 Turkish mobiles are about 1.5 MB.
    with gateway(extra_env={"ILETI_MAX_BODY_BYTES": str(8 * 1024 * 1024)}) as served:
        auth_key = served.unlimited_key()
        idle = run(
            run_load(
                served.base_url,
                RequestSource("/auth/check", {"api_key": auth_key}),
                concurrency=16,
                duration=min(args.duration, 5.0),
                rate=args.rate,
            )
        )
        print(f"/auth/check at {args.rate:,.0f}/s, no other load ({served.label})")
        print(idle.format())
        for scenario in scenarios:
            credits = 0 if scenario == "broke" else 1_000_000_000
            key = account_key(served, scenario, credits)
            body = group_bodies(key, valid=scenario == "valid")
            cpu = cpu_seconds(served.process.pid)
            groups, checks = run(under_load(served, auth_key, body, args))
            cpu = cpu_seconds(served.process.pid) - cpu
            print(
                f"\n{scenario}: {args.clients} clients posting /group/send of {RECIPIENTS:,}"
                f" ({len(body(0)) / 1e6:.1f} MB) in a loop"
            )
            print(
                f"  groups: {groups.requests:,} answered in {groups.elapsed:.1f}s,"
                f" {groups.rps:.2f}/s, codes {dict(sorted(groups.result_codes.items()))},"
                f" {groups.errors} errors; server CPU {cpu / groups.elapsed:.0%}"
            )
            print(
                f"  /auth/check: p50 {checks.p50_ms:.1f} ms  p99 {checks.p99_ms:.1f} ms"
                f"  max {checks.max_ms:.1f} ms  ({checks.requests:,} answered,"
                f" {checks.errors} errors)"
            )
            if scenario == "valid":
                # The same process dispatches what it accepted: both are its work.
                print(f"  messages by state at the end: {message_states(served)}")


if __name__ == "__main__":
    main()
