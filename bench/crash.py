"""Kill -9 the gateway while it dispatches, start it again, and check that nothing was lost.

The SMSC simulator runs inside this script, so it outlives the gateway and counts every
submit it received across the crash; the gateway (``ileti serve`` on SQLite) reaches it over
SMPP through a carriers file. Two scenarios:

1. a plain crash: every accepted message ends final, the operator saw each one (a submit that
   the crash caught between the operator's answer and its record is sent again: counted and
   printed as a duplicate), and the ledger balances;
2. a crash with a hostile operator (dropped connections, throttling, 5 % of receipts never
   sent) and a one-minute validity: the unanswered messages expire and are refunded.

    .venv/bin/python bench/crash.py [--messages 20000] [--skip-hostile]

Exits non-zero when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from ileti.carriers import SimulatorConfig, SmscSimulator
from served import ILETI, KEY, free_port

CHUNK = 2_000
FINAL = ("delivered", "failed", "expired")


class Gateway:
    """``ileti serve`` as a process that can be killed and started again on the same files."""

    def __init__(self, workdir: Path, smsc_port: int) -> None:
        self.workdir = workdir
        self.port = free_port()
        carriers = workdir / "carriers.toml"
        carriers.write_text(
            "[[carrier]]\n"
            'name = "smsc"\nhost = "127.0.0.1"\n'
            f"port = {smsc_port}\n"
            'system_id = "ileti"\npassword = "x"\n'
            "binds = 2\nwindow = 100\nresponse_timeout = 5.0\n"
            "reconnect_min = 0.2\nreconnect_max = 2.0\n"
            "throttle_backoff = 0.1\nthrottle_backoff_max = 1.0\n"
        )
        self.env = {
            **os.environ,
            "ILETI_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'ileti.db'}",
            "ILETI_CARRIERS_FILE": str(carriers),
            "ILETI_MAX_BODY_BYTES": str(4 * 1024 * 1024),
            "ILETI_LOG_LEVEL": "WARNING",
        }
        self.process: subprocess.Popen | None = None
        self.base_url = f"http://127.0.0.1:{self.port}"

    def ileti(self, *args: str) -> str:
        return subprocess.run(
            [*ILETI, *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout

    def launch(self) -> None:
        log = open(self.workdir / "serve.log", "ab")  # noqa: SIM115 (lives with the process)
        self.process = subprocess.Popen(
            [*ILETI, "serve", "--demo", "--port", str(self.port)],
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=log,
        )

    async def start(self) -> None:
        self.launch()
        assert self.process is not None
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    await client.get(f"{self.base_url}/openapi.json", timeout=1)
                    return
                except httpx.TransportError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError((self.workdir / "serve.log").read_text()) from None
                    await asyncio.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def query(self, sql: str) -> list[tuple]:
        with sqlite3.connect(self.workdir / "ileti.db", timeout=30) as db:
            return db.execute(sql).fetchall()

    def states(self) -> Counter[str]:
        return Counter(dict(self.query("SELECT status, count(*) FROM messages GROUP BY status")))


async def accept(gateway: Gateway, key: str, messages: int, validity: int | None) -> int:
    """Send ``messages`` unique recipients in groups; the number accepted."""
    accepted = 0
    async with httpx.AsyncClient(timeout=120) as client:
        for start in range(0, messages, CHUNK):
            body: dict[str, object] = {
                "api_key": key,
                "title": "ILETI",
                "text": "Siparişiniz kargoya verildi.",
                "sms_lang": 1,
                "sentto": [f"9053{n:08d}" for n in range(start, min(start + CHUNK, messages))],
            }
            if validity is not None:
                body["validity_minutes"] = validity
            reply = (await client.post(f"{gateway.base_url}/group/send", json=body)).json()
            assert reply["result_code"] == "TS-1024", reply
            accepted += reply["success_count"]
    return accepted


async def wait(gateway: Gateway, condition, limit: float) -> Counter[str]:
    deadline = time.monotonic() + limit
    while True:
        states = gateway.states()
        if condition(states) or time.monotonic() > deadline:
            return states
        await asyncio.sleep(0.2)


async def scenario(name: str, config: SimulatorConfig, messages: int, validity: int | None) -> bool:
    print(f"\n== {name}")
    simulator = SmscSimulator(config)
    await simulator.start()
    workdir = Path(tempfile.mkdtemp(prefix="ileti-crash-"))
    gateway = Gateway(workdir, simulator.port)
    try:
        await gateway.start()
        key = KEY.search(gateway.ileti("key", "create", "demo", "--per-minute", "0")).group(0)
        gateway.ileti("account", "topup", "demo", "--credits", str(messages * 2))
        started = time.monotonic()
        accepted = await accept(gateway, key, messages, validity)
        print(f"accepted {accepted:,} messages in {time.monotonic() - started:.1f}s")
        # Kill while some but not all have gone out.
        states = await wait(
            gateway, lambda s: s["sent"] + s["delivered"] >= accepted // 3, limit=120
        )
        gateway.kill()
        print(
            f"kill -9 with {dict(states)}; the operator had received {simulator.stats.received:,}"
        )
        await gateway.start()
        restarted = time.monotonic()
        limit = 300 if validity is None else validity * 60 + 120
        states = await wait(gateway, lambda s: sum(s[f] for f in FINAL) >= accepted, limit)
        print(f"after restart, all final in {time.monotonic() - restarted:.1f}s: {dict(states)}")
        return check(gateway, simulator, accepted, states)
    finally:
        gateway.stop()
        await simulator.stop()


def check(gateway: Gateway, simulator: SmscSimulator, accepted: int, states: Counter) -> bool:
    ok = True

    def verdict(passed: bool, text: str) -> None:
        nonlocal ok
        ok = ok and passed
        print(f"  [{'ok' if passed else 'FAILED'}] {text}")

    final = sum(states[f] for f in FINAL)
    verdict(final == accepted == sum(states.values()), f"{final:,} of {accepted:,} final")
    unique = len(simulator.submissions)
    duplicates = sum(count - 1 for count in simulator.submissions.values())
    # Messages whose validity ran out before they could go out fail without a submit.
    never = dict(
        gateway.query(
            "SELECT coalesce(error_reason, ''), count(*) FROM messages WHERE status = 'failed' "
            "AND id NOT IN (SELECT message_id FROM message_parts) GROUP BY error_reason"
        )
    )
    unsent = sum(never.values())
    # A submit the crash caught before its record counts as not sent: if its validity then
    # ran out, it failed (and was refunded) although the operator had it.
    verdict(
        accepted - unsent <= unique <= accepted,
        f"operator received {unique:,} distinct messages; {unsent:,} failed with no recorded "
        f"submit {never or ''}",
    )
    print(f"  duplicates (caught by the crash between submit and record): {duplicates}")
    [(credits,)] = gateway.query("SELECT credits FROM accounts WHERE name = 'demo'")
    [(total,)] = gateway.query(
        "SELECT sum(amount) FROM credit_ledger l JOIN accounts a ON a.id = l.account_id "
        "WHERE a.name = 'demo' AND l.balance = 'main'"
    )
    [(last,)] = gateway.query(
        "SELECT balance_after FROM credit_ledger l JOIN accounts a ON a.id = l.account_id "
        "WHERE a.name = 'demo' AND l.balance = 'main' ORDER BY l.id DESC LIMIT 1"
    )
    verdict(total == credits == last, f"ledger sums to the balance ({credits:,} credits)")
    [(refunds,)] = gateway.query("SELECT count(*) FROM credit_ledger WHERE kind = 'refund'")
    unpaid = states["failed"] + states["expired"]
    verdict(refunds == unpaid, f"{refunds:,} refunds for {unpaid:,} failed or expired messages")
    return ok


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--skip-hostile", action="store_true")
    args = parser.parse_args()
    ok = await scenario(
        "crash during dispatch",
        SimulatorConfig(port=0, receipt_delay=0.5),
        args.messages,
        validity=None,
    )
    if not args.skip_hostile:
        ok = (
            await scenario(
                "crash with dropped connections, throttling and 5% of receipts never sent",
                SimulatorConfig(
                    port=0,
                    receipt_delay=0.5,
                    drop_chance=0.001,
                    throttle_rate=5000,
                    outcomes={"delivered": 0.95, "none": 0.05},
                ),
                args.messages,
                validity=1,
            )
            and ok
        )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    asyncio.run(main())
