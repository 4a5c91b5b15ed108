"""Key checks under load: ``/auth/check`` and ``/balance`` against ``ileti serve``.

Prints requests/s and latency percentiles for a closed loop (as fast as the server answers) and
for an open loop at a fixed rate, and the server's memory.

    .venv/bin/python bench/auth.py [--duration 10] [--concurrency 64] [--rate 1000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from loadgen import RequestSource, run, run_load, server_rss_mb
from served import serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=float, default=1000.0)
    args = parser.parse_args()

    served = serve()
    try:
        key = served.unlimited_key()
        body = {"api_key": key}
        for path in ("/auth/check", "/balance"):
            result = run(
                run_load(
                    served.base_url,
                    RequestSource(path, body),
                    concurrency=args.concurrency,
                    duration=args.duration,
                )
            )
            print(f"{path} closed loop, {args.concurrency} connections")
            print(result.format())
        result = run(
            run_load(
                served.base_url,
                RequestSource("/auth/check", body),
                concurrency=args.concurrency,
                duration=args.duration,
                rate=args.rate,
            )
        )
        print(f"/auth/check open loop at {args.rate:,.0f}/s")
        print(result.format())
        print(f"server RSS {server_rss_mb(served.process.pid):.0f} MB")
    finally:
        served.stop()


if __name__ == "__main__":
    main()
