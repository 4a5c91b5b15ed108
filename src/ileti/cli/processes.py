"""The commands that start the gateway's processes: ``serve``, ``api`` and ``worker``.

What runs in them (uvicorn, the API, the worker) is imported only when one of them starts
(``cli/serve.py``), so that every other command, and ``--help``, starts at once.
"""

from __future__ import annotations

import os
import shutil
import tempfile
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
    api_processes: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="API processes beside the worker's, sharing the port (0: one process for"
            " everything). Default: ILETI_API_PROCESSES, or 1 with more than one core.",
        ),
    ] = None,
) -> None:
    """Run the whole gateway: the API, the dispatcher, receipts, and (with no carriers
    configured) the built-in SMSC simulator."""
    count = api_processes if api_processes is not None else _default_api_processes()
    if count == 0:
        from ileti.cli.serve import run_serve

        run_serve(host, port, demo=demo, api_processes=0)
        return
    # Every process writes its metrics here, and /metrics adds them up. Read by
    # prometheus_client as it is imported, so set first.
    metrics = tempfile.mkdtemp(prefix="ileti-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics
    try:
        from ileti.cli.serve import run_serve

        run_serve(host, port, demo=demo, api_processes=count)
    finally:
        shutil.rmtree(metrics, ignore_errors=True)


def _default_api_processes() -> int:
    from ileti.config import get_settings

    configured = get_settings().api_processes
    if configured is not None:
        return configured
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 1 if (cores or 1) > 1 else 0


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
