"""The one typer application that every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="ileti",
    help="ileti: an SMS gateway serving the TurkeySMS API V4.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
