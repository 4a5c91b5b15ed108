"""Run ``ileti`` commands as separate processes, as an operator would."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ILETI = [sys.executable, "-m", "ileti"]
KEY_PATTERN = re.compile(r"ilt_[0-9a-f]{10}_[A-Za-z0-9_-]{43}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_ileti(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ILETI, *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@dataclass
class ServedGateway:
    process: subprocess.Popen
    base_url: str
    key: str
    env: dict[str, str]
    cwd: Path
    log_path: Path
    stdout: str = field(default="")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve_demo(cwd: Path, env: dict[str, str], port: int | None = None) -> ServedGateway:
    """``ileti serve --demo`` in ``cwd``; returns once it answers HTTP, with its demo key."""
    port = port or free_port()
    log_path = cwd / f"serve-{port}.log"
    stdout_path = cwd / f"serve-{port}.out"
    with open(log_path, "wb") as log, open(stdout_path, "wb") as out:
        process = subprocess.Popen(
            [*ILETI, "serve", "--demo", "--port", str(port)],
            env={**os.environ, **env},
            cwd=cwd,
            stdout=out,
            stderr=log,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"ileti serve exited: {log_path.read_text()}")
        try:
            httpx.get(f"{base_url}/openapi.json", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"ileti serve did not start: {log_path.read_text()}") from None
            time.sleep(0.1)
    stdout = stdout_path.read_text()
    match = KEY_PATTERN.search(stdout)
    if match is None:
        process.kill()
        raise RuntimeError(f"no demo key printed: {stdout}")
    return ServedGateway(process, base_url, match.group(0), env, cwd, log_path, stdout)
