"""``ileti serve`` with API processes beside the worker's: they share the port, the worker hears
what they queue, /metrics adds every process up, and none outlives the gateway."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from ileti.wakeups import Bell
from support.server import ILETI, ServedGateway, free_port, serve_demo

T = TypeVar("T")
DELIVERED = 'ileti_messages_finished_total{state="delivered"}'


def _until(read: Callable[[], T], done: Callable[[T], bool], within: float = 30.0) -> T:
    deadline = time.monotonic() + within
    while not done(value := read()):
        assert time.monotonic() < deadline, f"gave up waiting; last read {value!r}"
        time.sleep(0.05)
    return value


def _api_processes(parent: int) -> set[int]:
    """The API processes ``parent`` runs, by their command lines."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"ileti.cli.api_process" in command:
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[ServedGateway]:
    env = {
        "ILETI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ileti.db'}",
        "ILETI_API_PROCESSES": "2",
    }
    served = serve_demo(tmp_path, env)
    yield served
    served.stop()


pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads processes from /proc")


def test_two_api_processes_answer_and_the_worker_delivers_what_they_queue(
    gateway: ServedGateway,
) -> None:
    assert len(_api_processes(gateway.process.pid)) == 2
    sent = [
        httpx.post(
            f"{gateway.base_url}/sms/send",
            json={
                "api_key": gateway.key,
                "title": "ILETI",
                "sentto": f"9053276543{i:02d}",
                "text": "Sipariş",
                "sms_lang": "auto",
            },
        ).json()
        for i in range(6)
    ]
    assert {reply["result_code"] for reply in sent} == {"TS-1024"}

    def statuses() -> set[str]:
        return {
            httpx.post(
                f"{gateway.base_url}/sms/status",
                json={"api_key": gateway.key, "sms_id": reply["sms_id"]},
            ).json()["status"]
            for reply in sent
        }

    _until(statuses, lambda found: found == {"delivered"})
    # The worker counted them in its own process; any API process's /metrics shows them.
    metrics = [httpx.get(f"{gateway.base_url}/metrics").text for _ in range(4)]
    assert all(_metric(text, DELIVERED) >= 6 for text in metrics)
    assert all(
        'ileti_http_requests_total{code="TS-1024",endpoint="/sms/send"} 6.0' in text
        for text in metrics
    )


def test_an_api_process_that_dies_is_started_again(gateway: ServedGateway) -> None:
    first = _api_processes(gateway.process.pid)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    _until(
        lambda: _api_processes(gateway.process.pid), lambda now: len(now) == 2 and victim not in now
    )
    assert "api_process_exited" in gateway.log()
    reply = httpx.post(f"{gateway.base_url}/balance", json={"api_key": gateway.key}).json()
    assert reply["result_code"] == "TS-1040"


def test_api_processes_die_with_the_gateway_and_free_its_port(gateway: ServedGateway) -> None:
    children = _api_processes(gateway.process.pid)
    gateway.process.kill()
    gateway.process.wait()
    _until(lambda: {pid for pid in children if _alive(pid)}, lambda left: not left)
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{gateway.base_url}/balance", json={"api_key": gateway.key}, timeout=2)


def test_a_bell_rung_in_another_process_wakes_this_one() -> None:
    async def main() -> list[bool]:
        bell = Bell.open()
        heard: list[bool] = []
        rung = asyncio.Event()

        def listener(urgent: bool) -> None:
            heard.append(urgent)
            if urgent:
                rung.set()

        bell.hear(listener)
        ring = (
            "import sys; from ileti.wakeups import Bell; r = Bell.ringer(int(sys.argv[1]));"
            " r(False); r(True)"
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", ring, str(bell.write_fd), pass_fds=(bell.write_fd,)
        )
        assert await process.wait() == 0
        await asyncio.wait_for(rung.wait(), 10)
        bell.close()
        return heard

    heard = asyncio.run(main())
    # Rings that arrive together are heard as one, urgent if any of them was.
    assert heard[-1] is True
    assert 1 <= len(heard) <= 2


def test_one_process_when_asked(tmp_path: Path) -> None:
    env = {
        "ILETI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ileti.db'}",
        "ILETI_API_PROCESSES": "0",
    }
    served = serve_demo(tmp_path, env)
    try:
        assert _api_processes(served.process.pid) == set()
        reply = httpx.post(f"{served.base_url}/balance", json={"api_key": served.key}).json()
        assert reply["result_code"] == "TS-1040"
    finally:
        served.stop()
    assert served.process.returncode == 0


def test_the_gateway_stops_when_its_api_processes_cannot_start(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ILETI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ileti.db'}",
        "ILETI_API_PROCESSES": "1",
        # Refused as each API process starts: not a network.
        "ILETI_TRUSTED_PROXIES": "proxy.example",
    }
    process = subprocess.run(
        [*ILETI, "serve", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode != 0
    assert process.stderr.count("api_process_exited") == 3
