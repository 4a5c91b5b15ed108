"""Single sends beside groups of the same account: how long a send waits while a group goes in.

A send and a group of one account both take its balance; the sends that arrive while a group is
stored show whether they wait for the group. Single sends arrive at ``--rate`` a second (each
its own number) while a group of ``--group-size`` recipients is sent every ``--every``
seconds; the sends' latency is printed for those that started while a group request was out
and for the others. ``--other-account`` sends them from another account: what is left is the
machine being busy, not the account.

    .venv/bin/python bench/beside_groups.py [--postgres URL] [--seconds 40] [--other-account]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from loadgen import Client, run
from served import Served, gateway

# When a send counts as beside a group: it started this long before the group request or later,
# and before its answer.
_BEFORE = 0.05


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(name: str, latencies: list[float]) -> str:
    if not latencies:
        return f"{name}: none"
    ordered = sorted(ms * 1000 for ms in latencies)
    return (
        f"{name}: {len(ordered):,} sends, p50 {_percentile(ordered, 0.5):.1f}"
        f"  p90 {_percentile(ordered, 0.9):.1f}  p99 {_percentile(ordered, 0.99):.1f}"
        f"  max {ordered[-1]:.1f} ms"
    )


async def _load(served: Served, args: argparse.Namespace, send_key: str, group_key: str) -> None:
    client = Client(served.base_url)
    sends: list[tuple[float, float, str | None]] = []
    groups: list[tuple[float, float, str | None]] = []
    end = time.monotonic() + args.seconds

    async def one_send(n: int) -> None:
        body = {
            "api_key": send_key,
            "title": "ILETI",
            "sentto": f"90505{n:07d}",
            "text": f"Siparişiniz yola çıktı: {n}",
            "sms_lang": 1,
        }
        started = time.monotonic()
        reply = await client.post("/sms/send", body)
        sends.append((started, time.monotonic() - started, reply.result_code))

    async def send_loop() -> None:
        pending = []
        n = 0
        while time.monotonic() < end:
            pending.append(asyncio.ensure_future(one_send(n)))
            n += 1
            await asyncio.sleep(1 / args.rate)
        await asyncio.gather(*pending)

    async def group_loop() -> None:
        await asyncio.sleep(2.0)
        round_ = 0
        while time.monotonic() < end - args.every:
            body = {
                "api_key": group_key,
                "title": "ILETI",
                "text": "Kampanya: bu hafta sonu tüm ürünlerde %20 indirim!",
                "sms_lang": 1,
                "sentto": [
                    f"9053{round_ * args.group_size + i:08d}" for i in range(args.group_size)
                ],
            }
            started = time.monotonic()
            reply = await client.post("/group/send", body)
            groups.append((started, time.monotonic() - started, reply.result_code))
            round_ += 1
            await asyncio.sleep(max(0.0, args.every - (time.monotonic() - started)))

    await asyncio.gather(send_loop(), group_loop())
    client.close()

    def beside(started: float) -> bool:
        return any(g - _BEFORE <= started <= g + took for g, took, _ in groups)

    codes = sorted({code or "none" for _, _, code in sends + groups})
    print(
        f"{len(groups)} groups of {args.group_size:,} (every {args.every:g} s) in"
        f" {', '.join(f'{took * 1000:.0f}' for _, took, _ in groups)} ms; answers {codes}"
    )
    print(_summary("sends while a group went in", [t for s, t, _ in sends if beside(s)]))
    print(_summary("the other sends", [t for s, t, _ in sends if not beside(s)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="run ileti api + ileti worker on this database")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--rate", type=float, default=20.0, help="single sends a second")
    parser.add_argument("--group-size", type=int, default=5_000)
    parser.add_argument("--every", type=float, default=4.0, help="seconds between groups")
    parser.add_argument(
        "--other-account", action="store_true", help="the single sends from another account"
    )
    args = parser.parse_args()
    with gateway(args.postgres) as served:
        served.ileti("account", "topup", "demo", "--credits", "10000000")
        group_key = served.unlimited_key()
        send_key = group_key
        if args.other_account:
            served.ileti("account", "create", "other", "--credits", "1000000")
            served.ileti("title", "add", "other", "ILETI", "--active")
            send_key = served.unlimited_key("other")
        print(
            f"{args.rate:g} single sends a second beside groups, {served.label},"
            f" {'another account' if args.other_account else 'the same account'}"
        )
        run(_load(served, args, send_key, group_key))


if __name__ == "__main__":
    main()
