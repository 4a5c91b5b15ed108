"""End to end: messages from the API to ``delivered`` through the SMSC simulator.

Default: ``ileti serve`` on SQLite, the built-in simulator in the same process. With
``--postgres URL``: ``ileti api`` + ``ileti worker`` on PostgreSQL (a fresh schema), the
simulator inside the worker.

    .venv/bin/python bench/e2e.py [--messages 100000] [--postgres URL]

Sends ``/group/send`` requests of 10,000 recipients back to back, then waits until every
accepted message is delivered. Prints the time to accept, the time from the first request to
the last delivery (the last receipt's time as the gateway recorded it), messages/s end to end
and the memory of the gateway's processes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from group import group, post
from served import gateway, last_done_at, message_states

REQUEST = 10_000
LIMIT = 900.0  # seconds to wait for delivery before giving up


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident memory of process ``pid`` now and at its peak, in MiB (Linux only)."""
    values: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--postgres", help="run ileti api + ileti worker on this database")
    args = parser.parse_args()
    with gateway(args.postgres) as served:
        key = served.unlimited_key()
        served.ileti("account", "topup", "demo", "--credits", str(args.messages * 2))
        first_request = time.time()
        started = time.perf_counter()
        accepted = 0
        for offset in range(0, args.messages, REQUEST):
            recipients = min(REQUEST, args.messages - offset)
            _, reply = post(served, "/group/send", group(key, recipients, offset))
            if reply.get("result_code") != "TS-1024":
                raise SystemExit(f"a group was refused: {reply}")
            accepted += int(reply["success_count"])  # type: ignore[call-overload]
        accept_seconds = time.perf_counter() - started
        print(
            f"{served.label}: {accepted:,} messages accepted in {accept_seconds:.1f}s "
            f"({accepted / accept_seconds:,.0f}/s) in requests of {REQUEST:,}"
        )

        states: dict[str, int] = {}
        while time.perf_counter() - started < LIMIT:
            states = message_states(served)
            if states.get("delivered", 0) >= accepted:
                break
            time.sleep(0.25)
        delivered = states.get("delivered", 0)
        if delivered < accepted:
            print(f"not all delivered within {LIMIT:.0f}s: {states}")
        last = last_done_at(served)
        total = last - first_request if last is not None else float("nan")
        print(
            f"first request to last delivery: {total:.1f}s, {delivered / total:,.0f} messages/s "
            f"end to end; states {states}"
        )
        for process in [served.process, *served.others]:
            name = " ".join(process.args[3:4]) if isinstance(process.args, list) else "?"
            rss, peak = memory_mb(process.pid)
            print(f"ileti {name}: RSS {rss:.0f} MB now, {peak:.0f} MB at peak")


if __name__ == "__main__":
    main()
