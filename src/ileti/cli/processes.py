"""The commands that start the gateway's processes: ``serve``, ``api`` and ``worker``.

What runs in them (uvicorn, the API, the worker) is imported only when one of them starts
(``cli/serve.py``), so that every other command, and ``--help``, starts at once.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ileti.cli.app import app

Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Create a demo account, title and key (kept across restarts); print the key.",
        ),
    ] = False,
) -> None:
    """Run the whole gateway in one process: the API, the dispatcher, receipts, and (with no
    carriers configured) the built-in SMSC simulator."""
    from ileti.cli.serve import run_serve

    run_serve(host, port, demo=demo)


@app.command("api")
def api_command(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Run the API alone (scale out: any number of these, and workers, on one PostgreSQL)."""
    from ileti.cli.serve import run_api

    run_api(host, port)


@app.command("worker")
def worker_command(
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port (127.0.0.1).")
    ] = None,
) -> None:
    """Run the dispatcher, receipts and housekeeping alone, without the API."""
    from ileti.cli.serve import run_worker

    run_worker(metrics_port)
