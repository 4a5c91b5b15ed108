"""``ileti iys-sim``: the İYS simulator as a standalone server."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ileti.cli.app import app

if TYPE_CHECKING:
    from ileti.iys.simulator import IysSimulator

PASSWORD_ENV = "ILETI_IYS_SIM_PASSWORD"


def _password(password_file: Path | None) -> str | None:
    """The password from a file (its first line) or the environment; never from the command
    line, where every user of the machine could read it."""
    if password_file is not None:
        try:
            return password_file.read_text().partition("\n")[0].rstrip("\r")
        except OSError as error:
            raise typer.BadParameter(str(error), param_hint="--password-file") from None
    return os.environ.get(PASSWORD_ENV)


async def _serve(simulator: IysSimulator) -> None:
    await simulator.start()
    typer.echo(simulator.url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await simulator.stop()


@app.command("iys-sim")
def iys_sim(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on, 0 for any free one.")] = 8900,
    username: Annotated[
        str | None,
        typer.Option(help=f"Accept only this user; password: --password-file or {PASSWORD_ENV}."),
    ] = None,
    password_file: Annotated[
        Path | None, typer.Option(help="A file whose first line is the password for --username.")
    ] = None,
    delay: Annotated[float, typer.Option(help="Seconds to wait before each answer.")] = 0.0,
    fail_next: Annotated[
        int, typer.Option(help="Answer the first this many requests with --fail-status.")
    ] = 0,
    fail_status: Annotated[int, typer.Option(help="The status of those answers.")] = 503,
) -> None:
    """Run an İYS simulator: tokens, consent records by İYS's rules, batches, the changes feed,
    and POST /admin/changes/{iysCode}/{brandCode} to play a citizen's change."""
    from ileti import logs
    from ileti.iys.simulator import IysSimulator

    password = _password(password_file)
    if username is None and password_file is not None:
        raise typer.BadParameter("a password needs --username", param_hint="--password-file")
    if username is not None and password is None:
        raise typer.BadParameter(
            f"give the password with --password-file or {PASSWORD_ENV}", param_hint="--username"
        )
    simulator = IysSimulator(
        host, port, username, password if username is not None else None, delay=delay
    )
    if fail_next:
        simulator.fail_next(fail_next, fail_status)
    logs.configure()
    asyncio.run(_serve(simulator))
