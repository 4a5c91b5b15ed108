"""``ileti serve`` stopped by a signal while it dispatches, as a deploy or systemd stops it."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import httpx

from support.server import ILETI, free_port, run_ileti, serve_demo

MESSAGES = 2_000


def _wait(condition: Callable[[], Any], what: str, within: float = 60.0) -> Any:
    deadline = time.monotonic() + within
    while not (result := condition()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)
    return result


@contextmanager
def _operator(workdir: Path) -> Iterator[Path]:
    """``ileti smsc`` in a process of its own, so that it outlives the gateway and counts every
    submit across a restart; slow enough (throttling above 400/s) that a stop finds work out.
    Yields its stats file; its last counts are written when it stops."""
    port = free_port()
    stats = workdir / "smsc-stats.json"
    with open(workdir / "smsc.log", "wb") as log:
        process = subprocess.Popen(
            [*ILETI, "smsc", "--port", str(port), "--stats-file", str(stats),
             "--throttle-rate", "400", "--receipt-delay", "0.2"],
            stdout=log, stderr=log,
        )  # fmt: skip
    try:
        _wait(stats.exists, "the simulator to listen", 30)
        (workdir / "carriers.toml").write_text(
            f'[[carrier]]\nname = "smsc"\nhost = "127.0.0.1"\nport = {port}\n'
            'system_id = "ileti"\npassword = "x"\nbinds = 2\nwindow = 50\n'
            "throttle_backoff = 0.05\nthrottle_backoff_max = 0.2\n"
        )
        yield stats
    finally:
        process.terminate()
        process.wait(timeout=15)


def _query(database: Path, sql: str, *params: Any) -> list[tuple]:
    with closing(sqlite3.connect(database, timeout=30)) as conn:
        return conn.execute(sql, params).fetchall()


def test_a_stop_signal_while_dispatching_leaves_nothing_leased_and_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    database = tmp_path / "ileti.db"
    env = {
        "ILETI_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "ILETI_CARRIERS_FILE": str(tmp_path / "carriers.toml"),
    }
    with _operator(tmp_path) as stats_file:
        gateway = serve_demo(tmp_path, env)
        try:
            topup = run_ileti(["account", "topup", "demo", "--credits", "5000"], env, tmp_path)
            assert topup.returncode == 0, topup.stderr
            numbers = [f"9053{n:08d}" for n in range(MESSAGES)]
            reply = httpx.post(
                f"{gateway.base_url}/group/send",
                json={
                    "api_key": gateway.key,
                    "title": "ILETI",
                    "text": "Merhaba",
                    "sentto": numbers,
                },
                timeout=60,
            ).json()
            assert reply["result_code"] == "TS-1024", reply

            def dispatching() -> bool:
                [(queued,)] = _query(
                    database, "SELECT count(*) FROM messages WHERE status = 'queued'"
                )
                return queued <= MESSAGES - 200

            _wait(dispatching, "a tenth to go out")
            gateway.process.send_signal(signal.SIGTERM)
            assert gateway.process.wait(timeout=40) == 0
        finally:
            gateway.stop()

        # Nothing waits for a lease to run out: every claim left was given back (no owner, due
        # at once), whatever the time now. And the stop caught the gateway mid-way.
        [(leased, waiting)] = _query(
            database,
            "SELECT count(*) FILTER (WHERE lease_owner IS NOT NULL OR lease_until_ms <> 0),"
            " count(*) FROM dispatch_queue",
        )
        assert leased == 0
        assert waiting > 0
        log = gateway.log()
        assert '"event":"stopping"' in log and '"event":"stopped"' in log
        assert "stopped_unfinished" not in log

        again = serve_demo(tmp_path, env)
        try:

            def all_delivered() -> bool:
                [(delivered,)] = _query(
                    database, "SELECT count(*) FROM messages WHERE status = 'delivered'"
                )
                return delivered == MESSAGES

            _wait(all_delivered, "every message to be delivered after the restart")
        finally:
            again.stop()
    stats = json.loads(stats_file.read_text())
    # The operator got each message once: the stopped gateway had recorded every submit it
    # made, and unbound rather than dropped its connections.
    assert stats["unique_submissions"] == MESSAGES
    assert stats["duplicate_submissions"] == 0
    assert stats["unbinds"] == stats["binds"] == 4
