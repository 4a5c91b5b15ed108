"""``ileti smsc``: the SMSC simulator as a standalone server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections import Counter
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ileti.cli.app import app

if TYPE_CHECKING:
    from ileti.carriers.simulator import SimulatorConfig, SmscSimulator


class IdFormName(StrEnum):
    """The simulator's ``IdForm`` values, named here so that reading the command line does not
    load the simulator (a test checks that the two agree)."""

    DECIMAL = "decimal"
    DECIMAL_PADDED = "decimal-padded"
    HEX = "hex"
    HEX_UPPER = "hex-upper"
    HEX_PADDED = "hex-padded"


def parse_outcomes(text: str) -> dict[str, float]:
    """``delivered=0.9,undelivered=0.05,expired=0.03,none=0.02`` to weights."""
    weights: dict[str, float] = {}
    for item in filter(None, (piece.strip() for piece in text.split(","))):
        name, _, weight = item.partition("=")
        try:
            weights[name.strip()] = float(weight)
        except ValueError:
            raise typer.BadParameter(f"not a weight: {item!r}") from None
    return weights


async def run_smsc(config: SimulatorConfig, submissions_file: Path | None = None) -> None:
    import structlog

    from ileti.carriers.simulator import SmscSimulator

    smsc = SmscSimulator(config)
    await smsc.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await smsc.stop()
    if submissions_file is not None:
        _write_submissions(smsc, submissions_file)
    structlog.get_logger().info("smsc_stopped", **asdict(smsc.stats))


def _write_submissions(smsc: SmscSimulator, path: Path) -> None:
    """Each destination the simulator accepted submits for, and how many, as JSON."""
    accepted: Counter[str] = Counter()
    for (destination, _), times in smsc.submissions.items():
        accepted[destination] += times
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(accepted))
    os.replace(partial, path)


@app.command()
def smsc(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on. [default: 127.0.0.1]")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on, 0 for any free one. [default: 2775]")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="TOML or JSON file with simulator settings; flags override it."),
    ] = None,
    system_id: Annotated[
        str | None, typer.Option(help="Accept only this system_id (with --password).")
    ] = None,
    password: Annotated[str | None, typer.Option(help="The password for --system-id.")] = None,
    receipt_delay: Annotated[
        float | None, typer.Option(help="Send each receipt within this many seconds.")
    ] = None,
    outcomes: Annotated[
        str | None,
        typer.Option(help="Receipt weights, e.g. delivered=0.9,undelivered=0.1,none=0."),
    ] = None,
    throttle_rate: Annotated[
        float | None, typer.Option(help="Answer ESME_RTHROTTLED above this many submits/s.")
    ] = None,
    reject_share: Annotated[
        float | None, typer.Option(help="Share of submits refused (ESME_RSUBMITFAIL).")
    ] = None,
    drop_chance: Annotated[
        float | None, typer.Option(help="Chance per submit of dropping the connection.")
    ] = None,
    id_form: Annotated[
        IdFormName | None, typer.Option(help="Form of the message ids in submit_sm_resp.")
    ] = None,
    receipt_id_form: Annotated[
        IdFormName | None,
        typer.Option(help="Form of the ids in receipts (default: as in resp)."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for reproducible randomness.")] = None,
    stats_file: Annotated[
        Path | None,
        typer.Option(help="Write the counts as JSON to this file every 0.5 s and on exit."),
    ] = None,
    submissions_file: Annotated[
        Path | None,
        typer.Option(help="On exit, write each destination submitted to, with how often, as JSON."),
    ] = None,
) -> None:
    """Run an SMPP 3.4 SMSC simulator that accepts any login and delivers every message."""
    from ileti import logs
    from ileti.carriers.simulator import IdForm, SimulatorConfig

    if (system_id is None) != (password is None):
        raise typer.BadParameter("--system-id and --password go together")
    overrides = {
        "host": host,
        "port": port,
        "credentials": {system_id: password} if system_id is not None else None,
        "receipt_delay": receipt_delay,
        "outcomes": parse_outcomes(outcomes) if outcomes is not None else None,
        "throttle_rate": throttle_rate,
        "reject_share": reject_share,
        "drop_chance": drop_chance,
        "id_form": IdForm(id_form) if id_form is not None else None,
        "receipt_id_form": IdForm(receipt_id_form) if receipt_id_form is not None else None,
        "seed": seed,
        "stats_file": str(stats_file) if stats_file is not None else None,
    }
    try:
        settings = (
            SimulatorConfig.load(config, **overrides)
            if config is not None
            else SimulatorConfig.from_mapping({}, **overrides)
        )
    except (OSError, ValueError, TypeError) as error:
        raise typer.BadParameter(str(error)) from None
    logs.configure()
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        runner.run(run_smsc(settings, submissions_file))
