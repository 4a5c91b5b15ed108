"""Kill -9 (or stop) the gateway while it dispatches, start it again, and check that nothing
was lost.

The SMSC simulator runs as a process of its own (``ileti smsc --stats-file``), so it outlives
the gateway and counts every submit it received across the crash. The gateway (``ileti serve``
on SQLite) reaches it over SMPP through a carriers file. Three scenarios:

1. a plain crash: every accepted message ends final, the operator received each one (a submit
   the crash caught between the operator's answer and its record goes out again: allowed, and
   counted as a duplicate), and the ledger balances;
2. the same with a hostile operator (dropped connections, throttling above 5,000/s, 5 % of
   receipts never sent) and a one-minute validity: the unanswered messages expire, every
   failed or expired message is refunded, and none that the operator received is reported as
   never dispatched (a message the crash caught between submit and record may have reached
   it: it expires, it does not fail "before dispatch");
3. a stop signal (SIGTERM, as a deploy sends) to a gateway waiting on a throttling operator: it
   exits cleanly, having recorded every submit it made and given back what it had not sent, so
   that nothing waits for a lease after the restart and nothing is sent twice.

    .venv/bin/python bench/crash.py [--messages 20000] [--skip-hostile] [--scenario N ...]

Prints figures and the checks; exits non-zero when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from served import ILETI, KEY, free_port

CHUNK = 2_000
FINAL = ("delivered", "failed", "expired")
TEXT = "Siparişiniz kargoya verildi."


@dataclass
class Scenario:
    name: str
    smsc_flags: list[str]
    validity_minutes: int | None = None
    # SIGTERM rather than SIGKILL.
    graceful: bool = False


@dataclass
class Run:
    """The processes and files of one scenario, in a directory of its own."""

    workdir: Path
    smsc_port: int = field(default_factory=free_port)
    port: int = field(default_factory=free_port)
    smsc: subprocess.Popen | None = None
    server: subprocess.Popen | None = None

    @property
    def stats_file(self) -> Path:
        return self.workdir / "smsc-stats.json"

    @property
    def submissions_file(self) -> Path:
        """The destinations the operator accepted a submit for, written as it exits."""
        return self.workdir / "smsc-submissions.json"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "ILETI_DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir / 'ileti.db'}",
            "ILETI_CARRIERS_FILE": str(self.workdir / "carriers.toml"),
            "ILETI_LOG_LEVEL": "WARNING",
        }

    def spawn(self, args: list[str], log: str) -> subprocess.Popen:
        out = open(self.workdir / log, "ab")  # noqa: SIM115 (lives as long as the process)
        return subprocess.Popen(
            [*ILETI, *args], env=self.env, cwd=self.workdir, stdout=out, stderr=out
        )

    def start_smsc(self, flags: list[str]) -> None:
        self.smsc = self.spawn(
            ["smsc", "--host", "127.0.0.1", "--port", str(self.smsc_port),
             "--stats-file", str(self.stats_file),
             "--submissions-file", str(self.submissions_file), *flags],
            "smsc.log",
        )  # fmt: skip
        # The first stats file is written once it listens.
        wait_for(lambda: self.stats_file.exists(), 30, "the simulator to listen", self.smsc)
        (self.workdir / "carriers.toml").write_text(
            "[[carrier]]\n"
            'name = "smsc"\n'
            'host = "127.0.0.1"\n'
            f"port = {self.smsc_port}\n"
            'system_id = "ileti"\n'
            'password = "secret"\n'
            "binds = 2\n"
            "window = 100\n"
            # Quick to come back after a dropped connection or a throttle, as a test wants.
            "response_timeout = 5.0\n"
            "reconnect_min = 0.2\n"
            "reconnect_max = 2.0\n"
            "throttle_backoff = 0.1\n"
            "throttle_backoff_max = 1.0\n"
        )

    def start_server(self, *, demo: bool) -> None:
        args = ["serve", "--port", str(self.port)] + (["--demo"] if demo else [])
        self.server = server = self.spawn(args, "serve.log")

        def answers() -> bool:
            try:
                urllib.request.urlopen(f"{self.base_url}/openapi.json", timeout=1).read()
                return True
            except (urllib.error.URLError, ConnectionError):
                return False

        wait_for(answers, 60, "the gateway to answer", server)

    def halt_server(self, graceful: bool) -> int:
        """Its exit code."""
        assert self.server is not None
        os.kill(self.server.pid, signal.SIGTERM if graceful else signal.SIGKILL)
        return self.server.wait(timeout=60)

    def stop(self) -> None:
        """Gateway first (it would only reconnect to a stopped simulator), then the simulator;
        SIGTERM lets the simulator write its last stats."""
        for process in (self.server, self.smsc):
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def ileti(self, *args: str) -> str:
        return subprocess.run(
            [*ILETI, *args], env=self.env, cwd=self.workdir, capture_output=True, text=True,
            check=True, timeout=60,
        ).stdout  # fmt: skip

    def query(self, sql: str, *params: Any) -> list[tuple]:
        # The gateway writes in WAL mode: a reader here never blocks it.
        db = sqlite3.connect(self.workdir / "ileti.db", timeout=30)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def one(self, sql: str, *params: Any) -> Any:
        [(value,)] = self.query(sql, *params)
        return value

    def states(self) -> dict[str, int]:
        return dict(self.query("SELECT status, count(*) FROM messages GROUP BY status"))

    def smsc_stats(self) -> dict[str, int]:
        return json.loads(self.stats_file.read_text())


def wait_for(
    condition: Callable[[], bool], limit: float, what: str, process: subprocess.Popen
) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if process.poll() is not None:
            raise RuntimeError(f"gave up waiting for {what}: the process ended")
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what} after {limit:.0f}s")
        time.sleep(0.05)


def post(url: str, body: dict[str, object]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def accept(run: Run, key: str, messages: int, validity: int | None) -> tuple[list[int], int]:
    """Send ``messages`` distinct recipients in groups; the accepted groups' ids and the
    number of messages the answers say were accepted."""
    groups: list[int] = []
    accepted = 0
    for start in range(0, messages, CHUNK):
        body: dict[str, object] = {
            "api_key": key,
            "title": "ILETI",
            "text": TEXT,
            "sms_lang": 1,
            "sentto": [f"9053{n:08d}" for n in range(start, min(start + CHUNK, messages))],
        }
        if validity is not None:
            body["validity_minutes"] = validity
        reply = post(f"{run.base_url}/group/send", body)
        if reply["result_code"] != "TS-1024":
            raise RuntimeError(f"a group was refused: {reply}")
        groups.append(reply["group_id"])
        accepted += reply["success_count"]
    return groups, accepted


def scenario(spec: Scenario, messages: int) -> bool:
    print(f"\n== {spec.name}")
    run = Run(Path(tempfile.mkdtemp(prefix="ileti-crash-")))
    try:
        run.start_smsc(spec.smsc_flags)
        run.start_server(demo=True)
        run.ileti("account", "topup", "demo", "--credits", str(messages * 2))
        key = KEY.search(run.ileti("key", "create", "demo", "--per-minute", "0"))
        assert key is not None

        started = time.monotonic()
        groups, accepted = accept(run, key.group(0), messages, spec.validity_minutes)
        accepted_in = time.monotonic() - started
        print(f"accepted {accepted:,} messages in {len(groups)} groups in {accepted_in:.1f}s")

        # Kill once a share has gone out, so that the dispatcher is surely busy.
        def busy() -> bool:
            dispatched = accepted - run.states().get("queued", 0)
            return dispatched >= accepted // 4

        assert run.server is not None
        wait_for(busy, 120, "the dispatcher to send a quarter", run.server)
        halted = time.monotonic()
        code = run.halt_server(spec.graceful)
        killed_at = time.monotonic()
        states = run.states()
        submits = run.smsc_stats()["accepted"]
        leased = run.one(
            "SELECT count(*) FROM dispatch_queue WHERE lease_until_ms > ?", int(time.time() * 1000)
        )
        how = "SIGTERM" if spec.graceful else "kill -9"
        print(
            f"{how} at {halted - started:.1f}s, exit code {code} after {killed_at - halted:.2f}s,"
            f" with {states}; {leased:,} messages left leased; the operator had accepted about "
            f"{submits:,} submits"
        )
        mid_dispatch = 0 < states.get("queued", 0) < accepted
        stopped = (code == 0 and leased == 0) if spec.graceful else None

        run.start_server(demo=False)
        restarted = time.monotonic()
        print(f"restarted in {restarted - killed_at:.1f}s")
        # A dead worker's claims wait out their lease (60 s); unanswered messages their validity.
        limit = 180 + 60 * (spec.validity_minutes or 0)
        deadline = restarted + limit
        while time.monotonic() < deadline:
            states = run.states()
            if sum(states.get(s, 0) for s in FINAL) >= accepted:
                break
            time.sleep(0.25)
        done = time.monotonic()
        print(
            f"all final {done - restarted:.1f}s after the restart, {done - started:.1f}s after "
            f"the first request: {states}"
        )
        run.stop()  # the simulator writes its last counts as it exits
        return check(
            run,
            groups,
            accepted,
            mid_dispatch,
            strict=spec.validity_minutes is None,
            stopped=stopped,
        )
    finally:
        run.stop()
        print(f"  (files in {run.workdir})")


def check(
    run: Run,
    groups: list[int],
    accepted: int,
    mid_dispatch: bool,
    *,
    strict: bool,
    stopped: bool | None,
) -> bool:
    """``stopped``: for a stop signal, whether the gateway exited cleanly with nothing leased."""
    failures = 0

    def verdict(passed: bool, text: str) -> None:
        nonlocal failures
        failures += not passed
        print(f"  [{'ok' if passed else 'FAILED'}] {text}")

    verdict(mid_dispatch, "the gateway was halted while messages were still queued")
    if stopped is not None:
        verdict(stopped, "stopped with exit code 0 and no message left leased")
    marks = ",".join("?" * len(groups))
    rows = run.query(f"SELECT id, status FROM messages WHERE group_id IN ({marks})", *groups)
    stored = len(rows)
    open_ids = sorted(i for i, status in rows if status not in FINAL)
    verdict(
        stored == accepted and not open_ids,
        f"{stored:,} of {accepted:,} accepted messages stored; {len(open_ids):,} not final"
        + (f" (first ids {open_ids[:10]})" if open_ids else ""),
    )
    queue = run.one("SELECT count(*) FROM dispatch_queue")
    verdict(queue == 0, f"{queue:,} entries left in the dispatch queue")

    stats = run.smsc_stats()
    unique = stats["unique_submissions"]
    duplicates = stats["duplicate_submissions"]
    # A message with a recorded part surely reached the operator; the others ended without
    # one (their validity ran out while a dead worker's lease held them, or the retries ran
    # out), though the crash may have caught a few of them after the operator had them.
    recorded = run.one("SELECT count(DISTINCT message_id) FROM message_parts")
    unsent = dict(
        run.query(
            "SELECT status || ':' || coalesce(error_reason, ''), count(*) FROM messages "
            "WHERE id NOT IN (SELECT message_id FROM message_parts) GROUP BY 1"
        )
    )
    if strict:
        verdict(unique == accepted, f"the operator received {unique:,} distinct messages")
    else:
        verdict(
            recorded <= unique <= accepted,
            f"the operator received {unique:,} distinct messages; {recorded:,} have a recorded "
            f"submit, {accepted - recorded:,} ended without one {unsent or ''}",
        )
    print(
        f"  duplicates: {duplicates:,} submits repeated (caught by the crash between submit and "
        f"record); operator: {stats['received']:,} submits read, {stats['throttled']:,} "
        f"throttled, {stats['dropped']:,} lost with a dropped connection, "
        f"{stats['receipts_sent']:,} receipts sent, {stats['unbinds']} of {stats['binds']} "
        "binds ended by an unbind"
    )
    if stopped is not None:
        verdict(duplicates == 0, "a stopped gateway sent nothing twice")

    # What the operator received against what the gateway says never left: a message ended by
    # the "not sent" move has no recorded part and is failed.
    received = set(json.loads(run.submissions_file.read_text()))
    never_sent = run.query(
        f"SELECT sentto, error_reason FROM messages WHERE group_id IN ({marks})"
        " AND status = 'failed' AND id NOT IN (SELECT message_id FROM message_parts)",
        *groups,
    )
    wrong = [reason for sentto, reason in never_sent if sentto in received]
    unrecorded = run.one(
        f"SELECT count(*) FROM messages WHERE group_id IN ({marks}) AND status = 'expired'"
        " AND id NOT IN (SELECT message_id FROM message_parts)",
        *groups,
    )
    verdict(
        not wrong,
        f"{len(wrong):,} messages the operator received are reported never dispatched"
        + (f" ({dict(Counter(wrong))})" if wrong else "")
        + f" (of {len(never_sent):,} failed with no recorded submit); {unrecorded:,} expired"
        " with none, as they may have reached it",
    )

    account = run.one("SELECT id FROM accounts WHERE name = 'demo'")
    credits = run.one("SELECT credits FROM accounts WHERE id = ?", account)
    sums = dict(
        run.query(
            "SELECT CASE WHEN note = 'opening balance' THEN 'opening' ELSE kind END, sum(amount) "
            "FROM credit_ledger WHERE account_id = ? AND balance = 'main' GROUP BY 1",
            account,
        )
    )
    opening, topups = sums.get("opening", 0), sums.get("topup", 0)
    debits, refunds = -sums.get("debit", 0), sums.get("refund", 0)
    last = run.one(
        "SELECT balance_after FROM credit_ledger WHERE account_id = ? AND balance = 'main' "
        "ORDER BY id DESC LIMIT 1",
        account,
    )
    verdict(
        opening + topups - debits + refunds + sums.get("adjustment", 0) == credits == last,
        f"ledger: opening {opening:,} + top-ups {topups:,} - debits {debits:,} + refunds "
        f"{refunds:,} = balance {credits:,}; last balance_after {last:,}",
    )
    charged = run.one("SELECT coalesce(sum(cost), 0) FROM messages WHERE account_id = ?", account)
    verdict(debits == charged, f"debits {debits:,} = the cost of the stored messages {charged:,}")
    [(unpaid, unpaid_cost)] = run.query(
        "SELECT count(*), coalesce(sum(cost), 0) FROM messages "
        "WHERE account_id = ? AND status IN ('failed', 'expired')",
        account,
    )
    refunded = run.one(
        "SELECT count(*) FROM credit_ledger l JOIN messages m ON l.reference = 'message:' || m.id "
        "WHERE l.kind = 'refund' AND m.status IN ('failed', 'expired')"
    )
    entries = run.one("SELECT count(*) FROM credit_ledger WHERE kind = 'refund'")
    verdict(
        entries == refunded == unpaid and refunds == unpaid_cost,
        f"{entries:,} refund entries ({refunds:,} credits) for {unpaid:,} failed or expired "
        f"messages ({unpaid_cost:,} credits), {refunded:,} of them matched by reference",
    )
    return failures == 0


SCENARIOS = [
    Scenario(
        "kill -9 during dispatch",
        ["--receipt-delay", "1", "--outcomes", "delivered=1"],
    ),
    Scenario(
        "kill -9 with dropped connections, throttling and 5% of receipts never sent",
        [
            "--receipt-delay", "1", "--outcomes", "delivered=0.95,none=0.05",
            "--drop-chance", "0.001", "--throttle-rate", "5000",
        ],
        validity_minutes=1,
    ),
    Scenario(
        "SIGTERM while the operator throttles above 1,500/s",
        ["--receipt-delay", "1", "--outcomes", "delivered=1", "--throttle-rate", "1500"],
        graceful=True,
    ),
]  # fmt: skip


def main() -> None:
    listed = "; ".join(f"{n}: {spec.name}" for n, spec in enumerate(SCENARIOS, start=1))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--skip-hostile", action="store_true", help="leave out the second scenario")
    parser.add_argument(
        "--scenario",
        type=int,
        action="append",
        choices=range(1, len(SCENARIOS) + 1),
        help=f"run only this scenario (repeatable): {listed}".replace("%", "%%"),
    )
    args = parser.parse_args()
    chosen = [SCENARIOS[n - 1] for n in args.scenario] if args.scenario else SCENARIOS
    if args.skip_hostile:
        chosen = [spec for spec in chosen if spec is not SCENARIOS[1]]
    ok = True
    for spec in chosen:
        started = time.monotonic()
        try:
            passed = scenario(spec, args.messages)
        except RuntimeError as error:
            print(f"  [FAILED] {error}")
            passed = False
        print(f"  scenario took {time.monotonic() - started:.1f}s")
        ok = ok and passed
    print("\nall checks passed" if ok else "\nSOME CHECKS FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
