"""``/group/send`` with large recipient lists: how long acceptance takes, then delivery.

    .venv/bin/python bench/group.py [--recipients 100000] [--requests 10] [--postgres URL]

Prints the time to accept one request of ``--recipients``, then ``--requests`` such requests
back to back, then how long the accepted messages take to reach a final state.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from send import wait_delivered
from served import Served, gateway, message_states


def post(served: Served, path: str, body: dict[str, object]) -> tuple[float, dict[str, object]]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        served.base_url + path, data=data, headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        reply = json.loads(response.read())
    return time.perf_counter() - started, reply


def group(key: str, recipients: int, start: int) -> dict[str, object]:
    return {
        "api_key": key,
        "title": "ILETI",
        "text": "Kampanya: bu hafta sonu tüm ürünlerde %20 indirim!",
        "sms_lang": 1,
        "sentto": [f"9053{start + i:08d}" for i in range(recipients)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--postgres")
    parser.add_argument("--no-delivery", action="store_true", help="skip waiting for delivery")
    args = parser.parse_args()
    # Bodies of 100,000 numbers are about 1.6 MB.
    env = {"ILETI_MAX_BODY_BYTES": str(8 * 1024 * 1024)}
    with gateway(args.postgres, env) as served:
        key = served.unlimited_key()
        served.ileti("account", "topup", "demo", "--credits", "100000000")
        seconds, reply = post(served, "/group/send", group(key, args.recipients, 0))
        print(
            f"one request of {args.recipients:,} recipients ({served.label}): "
            f"{seconds:.2f}s, {reply['result_code']}, {reply.get('success_count'):,} accepted"
        )
        total = reply.get("success_count", 0)
        started = time.perf_counter()
        for n in range(1, args.requests + 1):
            _, reply = post(served, "/group/send", group(key, args.recipients, n * 1_000_000))
            total += reply.get("success_count", 0)
        elapsed = time.perf_counter() - started
        count = args.requests * args.recipients
        # The worker sends while the requests come in: on a small machine the two share it.
        states = message_states(served)
        print(
            f"{args.requests} requests, {count:,} recipients: {elapsed:.2f}s, "
            f"{count / elapsed:,.0f} recipients/s accepted; meanwhile "
            f"{sum(states.values()) - states.get('queued', 0):,} messages left the queue"
        )
        if not args.no_delivery:
            wait_delivered(served, total, limit=600)


if __name__ == "__main__":
    main()
