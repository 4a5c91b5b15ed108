"""``ileti iys-sim`` as an operator runs it: a process of its own, its password from a file or
the environment, never from the command line."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from typer.testing import CliRunner

from ileti.cli import app
from support.server import free_port

COMMAND = [sys.executable, "-m", "ileti", "iys-sim"]


@asynccontextmanager
async def iys_sim(
    *args: str, env: dict[str, str] | None = None
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """The command as a process, and the URL it printed; killed at the end unless the test
    stopped it."""
    process = await asyncio.create_subprocess_exec(
        *COMMAND,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None
        url = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
        yield process, url
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def grant(url: str, password: str) -> int:
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.post(
            "/oauth2/token",
            json={"username": "ileti", "password": password, "grant_type": "password"},
        )
    return answer.status_code


async def test_the_command_serves_tokens_to_the_user_it_was_given(tmp_path: Path):
    password_file = tmp_path / "iys-password"
    password_file.write_text("s3cret\n")
    port = free_port()
    args = ("--port", str(port), "--username", "ileti", "--password-file", str(password_file))
    async with iys_sim(*args) as (process, url):
        assert url == f"http://127.0.0.1:{port}"
        assert await grant(url, "s3cret") == 200
        assert await grant(url, "guess") == 401
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0


async def test_the_password_may_come_from_the_environment():
    env = {"ILETI_IYS_SIM_PASSWORD": "from-env"}
    async with iys_sim("--port", "0", "--username", "ileti", env=env) as (process, url):
        assert await grant(url, "from-env") == 200
        assert await grant(url, "s3cret") == 401
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 10) == 0


def test_a_username_without_a_password_is_refused(monkeypatch):
    monkeypatch.delenv("ILETI_IYS_SIM_PASSWORD", raising=False)
    result = CliRunner().invoke(app, ["iys-sim", "--username", "ileti"])
    assert result.exit_code == 2
    assert "ILETI_IYS_SIM_PASSWORD" in result.output
