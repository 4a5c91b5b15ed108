"""``/sms/send`` under load: accepted messages per second and latency, then delivery.

By default against ``ileti serve`` on SQLite (API, dispatcher and the built-in simulator in one
process). With ``--postgres URL`` it runs ``ileti api`` and ``ileti worker`` as two processes on
that PostgreSQL database (a fresh schema), the simulator inside the worker.

    .venv/bin/python bench/send.py [--duration 10] [--concurrency 64] [--rate 1000]
    .venv/bin/python bench/send.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from loadgen import RequestSource, run, run_load, server_rss_mb
from served import Served, gateway, message_states


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--postgres", help="run ileti api + ileti worker on this database")
    args = parser.parse_args()

    with gateway(args.postgres) as served:
        key = served.unlimited_key()
        served.ileti("account", "topup", "demo", "--credits", "10000000")
        closed = run(
            run_load(
                served.base_url,
                sends(key, 0),
                concurrency=args.concurrency,
                duration=args.duration,
            )
        )
        print(f"/sms/send closed loop, {args.concurrency} connections ({served.label})")
        print(closed.format())
        # The open loop measures a steady rate: the closed loop's backlog goes out first.
        wait_delivered(served, closed.result_codes.get("TS-1024", 0))
        opened = run(
            run_load(
                served.base_url,
                sends(key, 50_000_000),
                concurrency=args.concurrency,
                duration=args.duration,
                rate=args.rate,
            )
        )
        print(f"/sms/send open loop at {args.rate:,.0f}/s")
        print(opened.format())
        accepted = closed.result_codes.get("TS-1024", 0) + opened.result_codes.get("TS-1024", 0)
        wait_delivered(served, accepted)
        print(f"API process RSS {server_rss_mb(served.process.pid):.0f} MB")


def wait_delivered(served: Served, accepted: int, limit: float = 120.0) -> None:
    """Until every stored message is final. The stored ones can be a few more than the
    answers counted: requests still in flight when a load phase ends are not counted."""
    started = time.monotonic()
    while True:
        states = message_states(served)
        final = sum(states.get(s, 0) for s in ("delivered", "failed", "expired"))
        if final >= max(accepted, sum(states.values())) or time.monotonic() - started > limit:
            break
        time.sleep(0.5)
    print(
        f"{accepted:,} answered TS-1024; {sum(states.values()):,} stored; all final "
        f"{time.monotonic() - started:.1f}s after the load: {states}"
    )


if __name__ == "__main__":
    main()
