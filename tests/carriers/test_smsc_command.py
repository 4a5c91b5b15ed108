"""``ileti smsc`` as an operator runs it: a process of its own, configured by file and flags."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from typer.testing import CliRunner

from ileti.carriers import OutboundMessage, ReceiptState, SubmitErrorKind, SubmitPart
from ileti.cli import app

COMMAND = [sys.executable, "-c", "from ileti.cli import main; main()", "smsc"]


async def read_event(stream: asyncio.StreamReader, name: str) -> dict:
    while True:
        line = await stream.readline()
        assert line, f"the simulator ended before logging {name}"
        if line.startswith(b"{") and (event := json.loads(line))["event"] == name:
            return event


@asynccontextmanager
async def smsc(*args: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, int]]:
    """``ileti smsc`` with these flags as a process, and the port it listens on; killed at the
    end unless the test stopped it."""
    process = await asyncio.create_subprocess_exec(
        *COMMAND, "--port", "0", *args, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert process.stderr is not None
        listening = await asyncio.wait_for(read_event(process.stderr, "smsc_listening"), 10)
        yield process, listening["port"]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_the_command_serves_as_configured_and_reports_on_exit(tmp_path: Path, connect):
    settings = tmp_path / "smsc.toml"
    settings.write_text(
        'receipt_delay = 0.0\noutcomes = { undelivered = 1.0 }\nreceipt_id_form = "hex-upper"\n'
        'credentials = { ileti = "secret" }\n'
    )
    async with smsc("--config", str(settings), "--seed", "7") as (process, port):
        assert process.stderr is not None
        carrier = await connect(port, system_id="ileti", password="secret")
        [result] = await carrier.submit(
            OutboundMessage("ILETI", "905321234567", (SubmitPart(b"hi", 0),))
        )
        assert result.ok
        received = await asyncio.wait_for(carrier.receive(), 5)
        assert received.item.state is ReceiptState.FAILED
        assert received.item.message_id == received.item.message_id.upper()
        received.accept()
        await carrier.stop()

        process.send_signal(signal.SIGINT)
        stopped = await asyncio.wait_for(read_event(process.stderr, "smsc_stopped"), 10)
        assert (stopped["accepted"], stopped["binds"], stopped["unbinds"]) == (1, 1, 1)
        assert await asyncio.wait_for(process.wait(), 10) == 0


async def test_a_wrong_password_is_refused_when_credentials_are_set(connect):
    async with smsc("--system-id", "ileti", "--password", "secret") as (process, port):
        assert process.stderr is not None
        carrier = await connect(
            port,
            wait=False,
            system_id="ileti",
            password="wrong",
            response_timeout=0.3,
        )
        refused = await asyncio.wait_for(read_event(process.stderr, "smsc_bind_refused"), 10)
        assert refused["status"] == "ESME_RINVPASWD"
        [result] = await carrier.submit(
            OutboundMessage("ILETI", "905321234567", (SubmitPart(b"hi", 0),))
        )
        assert result.error is not None and result.error.kind is SubmitErrorKind.BIND_LOST


def test_a_setting_the_simulator_does_not_know_is_refused(tmp_path: Path):
    settings = tmp_path / "smsc.json"
    settings.write_text(json.dumps({"receipt_delay": 0.5, "colour": "blue"}))
    result = CliRunner().invoke(app, ["smsc", "--config", str(settings)])
    assert result.exit_code == 2
    assert "colour" in result.output


async def test_the_stats_file_counts_what_arrived_and_what_arrived_twice(tmp_path: Path, connect):
    stats_file = tmp_path / "smsc-stats.json"
    async with smsc("--receipt-delay", "0", "--stats-file", str(stats_file)) as (process, port):
        carrier = await connect(port)
        again = OutboundMessage("ILETI", "905321234567", (SubmitPart(b"again", 0),))
        messages = [
            again,
            again,
            OutboundMessage("ILETI", "905321234567", (SubmitPart(b"once", 0),)),
            OutboundMessage("ILETI", "905329876543", (SubmitPart(b"again", 0),)),
        ]
        for message in messages:
            [result] = await carrier.submit(message)
            assert result.ok
        for _ in messages:
            (await asyncio.wait_for(carrier.receive(), 5)).accept()

        # Written every half second while it runs: the submits show up without a restart.
        async def counts() -> dict:
            while True:
                if stats_file.exists():
                    stats = json.loads(stats_file.read_text())
                    if stats["receipts_acknowledged"] == len(messages):
                        return stats
                await asyncio.sleep(0.1)

        running = await asyncio.wait_for(counts(), 5)
        assert (running["accepted"], running["receipts_sent"]) == (4, 4)
        assert (running["unique_submissions"], running["duplicate_submissions"]) == (3, 1)
        await carrier.stop()

        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 10) == 0
        final = json.loads(stats_file.read_text())
        assert {**final, "unbinds": 0} == {**running, "unbinds": 0}
        assert final["unbinds"] == 1
        assert not (tmp_path / f".{stats_file.name}.partial").exists()
