"""Command line: ``ileti serve``, ``ileti smsc`` and the operator's admin commands."""

from __future__ import annotations

from ileti.cli import (  # noqa: F401  (each registers its commands)
    admin,
    blacklist,
    customer,
    iys,
    iys_sim,
    otp,
    prices,
    privacy,
    processes,
    smsc,
    users,
    webhooks,
)
from ileti.cli.app import app


def main() -> None:
    app()
