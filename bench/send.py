"""``/sms/send`` under load: accepted messages per second and latency, then delivery.

By default against ``ileti serve`` on SQLite (API, dispatcher and the built-in simulator in one
process). With ``--postgres URL`` it runs ``ileti api`` and ``ileti worker`` as two processes on
that PostgreSQL database (a fresh schema), the simulator inside the worker.

Throughput is measured in closed loops, one per number of client connections: with too few, a
request's round trip bounds the rate (connections / latency) while the server still has CPU to
spare, so the rate the server can take is the highest of them. Each loop's backlog is delivered
before the next starts. Latency is then measured in an open loop at a fixed rate.

    .venv/bin/python bench/send.py [--duration 10] [--concurrency 64,256,512] [--rate 1000]
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
    parser.add_argument(
        "--concurrency",
        default="64,256,512",
        help="client connections of each closed loop, comma-separated",
    )
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument(
        "--open-concurrency", type=int, default=64, help="client connections of the open loop"
    )
    parser.add_argument("--postgres", help="run ileti api + ileti worker on this database")
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]

    with gateway(args.postgres) as served:
        key = served.unlimited_key()
        served.ileti("account", "topup", "demo", "--credits", "100000000")
        accepted = 0
        rates: dict[int, float] = {}
        for number, concurrency in enumerate(concurrencies):
            closed = run(
                run_load(
                    served.base_url,
                    sends(key, number * 10_000_000),
                    concurrency=concurrency,
                    duration=args.duration,
                )
            )
            print(f"/sms/send closed loop, {concurrency} connections ({served.label})")
            print(closed.format())
            rates[concurrency] = closed.result_codes.get("TS-1024", 0) / closed.elapsed
            accepted += closed.result_codes.get("TS-1024", 0)
            # Each load starts from an empty queue: the backlog goes out first.
            wait_delivered(served, accepted)
        opened = run(
            run_load(
                served.base_url,
                sends(key, 90_000_000),
                concurrency=args.open_concurrency,
                duration=args.duration,
                rate=args.rate,
            )
        )
        print(f"/sms/send open loop at {args.rate:,.0f}/s, {args.open_concurrency} connections")
        print(opened.format())
        accepted += opened.result_codes.get("TS-1024", 0)
        wait_delivered(served, accepted)
        best = max(rates, key=rates.__getitem__)
        print(
            f"Accepted: {rates[best]:,.0f} messages/s at most ({best} connections); "
            f"p99 {opened.p99_ms:.1f} ms at {args.rate:,.0f} requests/s"
        )
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
