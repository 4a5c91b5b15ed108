"""What checking Advertising against İYS consents costs ``/group/send``.

    .venv/bin/python bench/iys.py [--recipients 100000] [--rounds 3] [--postgres URL]

Starts the gateway and an İYS simulator (``ileti iys-sim``), gives the demo account İYS
settings, keeps an ONAY for every recipient (``/iys/consent/add``, 5,000 a request), then sends
Advertising groups of ``--recipients`` with the account's mode ``off`` and ``enforce`` in turn,
``--rounds`` times each, and prints recipients accepted a second for both and what the check
costs. Every recipient has consent, so both modes accept the same messages.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from group import post
from ileti.domain.consent import iys_date
from served import ILETI, Served, free_port, gateway

AT_ONCE = 5_000


def numbers(count: int) -> list[str]:
    return [f"9053{i:08d}" for i in range(count)]


def set_mode(served: Served, sim_url: str, mode: str) -> None:
    subprocess.run(
        [
            *ILETI,
            "account",
            "set",
            "demo",
            "--iys-url",
            sim_url,
            "--iys-code",
            "700123",
            "--iys-brand",
            "800456",
            "--iys-username",
            "brand",
            "--iys-password-stdin",
            "--iys-mode",
            mode,
        ],
        input="secret\n",
        env=served.env,
        cwd=served.workdir,
        check=True,
        capture_output=True,
        text=True,
    )


def add_consents(served: Served, key: str, recipients: list[str]) -> float:
    when = iys_date(datetime.now(UTC) - timedelta(days=1))
    started = time.perf_counter()
    for start in range(0, len(recipients), AT_ONCE):
        _, reply = post(
            served,
            "/iys/consent/add",
            {
                "api_key": key,
                "consents": [
                    {"recipient": n, "status": "ONAY", "source": "HS_WEB", "consent_date": when}
                    for n in recipients[start : start + AT_ONCE]
                ],
            },
        )
        assert reply["result_code"] == "TS-1064", reply
    return time.perf_counter() - started


def send(served: Served, key: str, recipients: list[str], number: int) -> float:
    seconds, reply = post(
        served,
        "/group/send",
        {
            "api_key": key,
            "title": "ILETI",
            "text": f"Kampanya {number}: bu hafta sonu tüm ürünlerde %20 indirim!",
            "sms_lang": 1,
            "content_type": 2,
            "sentto": recipients,
        },
    )
    assert reply["result_code"] == "TS-1024", reply
    assert reply["success_count"] == len(recipients), reply["success_count"]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres")
    args = parser.parse_args()
    recipients = numbers(args.recipients)
    env = {"ILETI_MAX_BODY_BYTES": str(8 * 1024 * 1024)}
    with gateway(args.postgres, env) as served:
        port = free_port()
        sim = served.start_other([*ILETI, "iys-sim", "--port", str(port)], "iys-sim")
        sim_url = f"http://127.0.0.1:{port}"
        try:
            key = served.unlimited_key()
            served.ileti("account", "topup", "demo", "--credits", "100000000")
            set_mode(served, sim_url, "off")
            seconds = add_consents(served, key, recipients)
            print(
                f"{args.recipients:,} consents kept ({served.label}): {seconds:.2f}s,"
                f" {args.recipients / seconds:,.0f}/s"
            )
            times: dict[str, list[float]] = {"off": [], "enforce": []}
            sends = itertools.count()  # each text differs: no send repeats another
            for _ in range(args.rounds):
                for mode in ("off", "enforce"):
                    set_mode(served, sim_url, mode)
                    times[mode].append(send(served, key, recipients, next(sends)))
            for mode, taken in times.items():
                median = statistics.median(taken)
                print(
                    f"/group/send of {args.recipients:,} Advertising, İYS {mode}: median"
                    f" {median:.2f}s ({', '.join(f'{t:.2f}' for t in taken)}),"
                    f" {args.recipients / median:,.0f} recipients/s"
                )
            off, on = (statistics.median(times[m]) for m in ("off", "enforce"))
            print(f"the check costs {(on - off) / off:+.1%} of the time of a group")
        finally:
            sim.terminate()


if __name__ == "__main__":
    main()
