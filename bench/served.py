"""Start ``ileti serve`` (or ``ileti api``) as its own process for a benchmark, with a key.

Benchmarks import it after ``sys.path.insert(0, str(Path(__file__).parent))``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ILETI = [sys.executable, "-m", "ileti"]
KEY = re.compile(r"ilt_[0-9a-f]{10}_[A-Za-z0-9_-]{43}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    process: subprocess.Popen
    base_url: str
    workdir: Path
    env: dict[str, str]

    def ileti(self, *args: str) -> str:
        """Run an admin command against the served database; its standard output."""
        done = subprocess.run(
            [*ILETI, *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def unlimited_key(self, account: str = "demo") -> str:
        match = KEY.search(self.ileti("key", "create", account, "--per-minute", "0"))
        assert match is not None
        return match.group(0)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve(extra_env: dict[str, str] | None = None, command: str = "serve") -> Served:
    """``ileti serve --demo`` on a fresh SQLite file (or the database ``extra_env`` names)."""
    workdir = Path(tempfile.mkdtemp(prefix="ileti-bench-"))
    env = {
        **os.environ,
        "ILETI_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'ileti.db'}",
        "ILETI_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    port = free_port()
    args = [*ILETI, command, "--port", str(port)] + (["--demo"] if command == "serve" else [])
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 (lives as long as the server)
    process = subprocess.Popen(args, env=env, cwd=workdir, stdout=log, stderr=log)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base_url}/openapi.json", timeout=1).read()
            break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError((workdir / "server.log").read_text()) from None
            time.sleep(0.1)
    return Served(process, base_url, workdir, env)
