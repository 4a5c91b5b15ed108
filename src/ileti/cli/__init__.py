"""Command line: ``ileti serve``, ``ileti smsc`` and the operator's admin commands."""

from __future__ import annotations

from ileti.cli import admin, prices, serve, smsc, webhooks  # noqa: F401  (each registers its commands)
from ileti.cli.app import app


def main() -> None:
    app()
