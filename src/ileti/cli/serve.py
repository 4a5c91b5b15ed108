"""``ileti serve``: the gateway in one process on the embedded database."""

from __future__ import annotations

import asyncio
import gc
import math
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import structlog
import typer
import uvicorn
import uvloop
from prometheus_client import start_http_server

from ileti import logs
from ileti.accounts.demo import DEMO_ACCOUNT, DEMO_TITLE, ensure_demo
from ileti.api.app import create_app
from ileti.cli.app import app
from ileti.cli.common import run_with_services
from ileti.config import Settings, get_settings
from ileti.dispatch.worker import Worker
from ileti.services import Services
from ileti.store import migrate
from ileti.store.db import open_database

log = structlog.get_logger("ileti")


class _ApiServer(uvicorn.Server):
    """uvicorn, less its own signal handling: the process stops the API, then the worker."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _api_server(services: Services, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(services),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        server_header=False,
        # X-Forwarded-For is read by the API alone, and only when trust_forwarded_for says so.
        proxy_headers=False,
        lifespan="on",
        timeout_graceful_shutdown=math.ceil(services.settings.shutdown_seconds),
    )
    return _ApiServer(config)


class _Signals:
    """SIGTERM and SIGINT: the first asks for an orderly stop, a second for a stop now."""

    NAMES = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.now = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        for signum in self.NAMES:
            self._loop.add_signal_handler(signum, self._received)

    def _received(self) -> None:
        (self.now if self.stop.is_set() else self.stop).set()

    def close(self) -> None:
        for signum in self.NAMES:
            self._loop.remove_signal_handler(signum)


async def _run(settings: Settings, host: str, port: int, *, api: bool, worker: bool) -> None:
    db = open_database(settings)
    signals = _Signals()
    try:
        services = Services.create(settings, db)
        runner = Worker(settings, db, services.clock) if worker else None
        server = _api_server(services, host, port) if api else None
        parts: dict[str, asyncio.Task[None]] = {}
        if runner is not None:
            # Messages and events the API queues wake the worker in this process at once.
            services.wakeups.listen(runner.wake)
            parts["worker"] = asyncio.create_task(runner.run())
        if server is not None:
            parts["api"] = asyncio.create_task(server.serve())
        signalled = asyncio.create_task(signals.stop.wait())
        # Runs until a signal, or until a part ends on its own (it failed).
        await asyncio.wait([*parts.values(), signalled], return_when=asyncio.FIRST_COMPLETED)
        signalled.cancel()
        await _stop(server, runner, parts, signals, settings.shutdown_seconds)
        for task in parts.values():
            if not task.cancelled() and (error := task.exception()) is not None:
                raise error
    finally:
        signals.close()
        await db.close()


async def _stop(
    server: uvicorn.Server | None,
    runner: Worker | None,
    parts: dict[str, asyncio.Task[None]],
    signals: _Signals,
    seconds: float,
) -> None:
    """In order: the API answers the requests it has and takes no more, then the worker sees
    the batches its carriers hold answered and recorded; within ``seconds``, or at once on a
    second signal. Then every part is cancelled (the worker unbinds from its carriers)."""
    log.info("stopping", seconds=seconds)

    async def orderly() -> None:
        if server is not None:
            server.should_exit = True
            await asyncio.wait([parts["api"]])
        if runner is not None and not parts["worker"].done():
            await runner.stop()

    stopping = asyncio.create_task(orderly())
    hurry = asyncio.create_task(signals.now.wait())
    done, _ = await asyncio.wait(
        [stopping, hurry], timeout=seconds, return_when=asyncio.FIRST_COMPLETED
    )
    if stopping not in done:
        # What is still out is claimed again once its lease runs out.
        log.warning("stopped_unfinished", signalled_again=hurry in done)
        if server is not None:
            server.force_exit = True
    for task in (stopping, hurry, *parts.values()):
        task.cancel()
    await asyncio.gather(stopping, hurry, *parts.values(), return_exceptions=True)
    log.info("stopped")


# The collector's default thresholds start a full collection every few hundred thousand
# allocations once the heap is large; a gateway under load allocates that many in a fraction of
# a second, and each full pass over a heap of hundreds of MB stops the event loop for 100-200
# ms (an OTP waits for it). Cycles are rare here: memory goes back by reference counting.
GC_THRESHOLDS = (50_000, 20, 100)


def _tune_gc() -> None:
    """Collect cycles rarely, and never look again at what start-up made."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _start(*, demo: bool, host: str, port: int) -> Settings:
    settings = get_settings()
    logs.configure(settings.log_level)
    migrate.upgrade(settings.database_url, settings.database_schema)
    if demo:

        async def demo_key(services: Services) -> str:
            return await ensure_demo(services.db, services.clock)

        key = run_with_services(demo_key, settings)
        base = f"http://{host}:{port}"
        typer.echo(
            f"\nDemo account '{DEMO_ACCOUNT}' with title '{DEMO_TITLE}'. Its key:\n\n  {key}\n\n"
            "Try it:\n\n"
            f"  curl -s {base}/balance -H 'Content-Type: application/json' "
            f'-d \'{{"api_key": "{key}"}}\'\n\n'
            f"  curl -s {base}/sms/send -H 'Content-Type: application/json' "
            f'-d \'{{"api_key": "{key}", "title": "{DEMO_TITLE}", '
            '"sentto": "905321234567", "text": "Merhaba!"}\'\n\n'
            f"  curl -s {base}/sms/status -H 'Content-Type: application/json' "
            f'-d \'{{"api_key": "{key}", "sms_id": 1}}\'\n',
        )
    _tune_gc()
    return settings


Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Create a demo account, title and key; print the key.")
    ] = False,
) -> None:
    """Run the whole gateway in one process: the API, the dispatcher, receipts, and (with no
    carriers configured) the built-in SMSC simulator."""
    settings = _start(demo=demo, host=host, port=port)
    uvloop.run(_run(settings, host, port, api=True, worker=True))


@app.command("api")
def api_command(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Run the API alone (scale out: any number of these, and workers, on one PostgreSQL)."""
    settings = _start(demo=False, host=host, port=port)
    uvloop.run(_run(settings, host, port, api=True, worker=False))


@app.command("worker")
def worker_command(
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port (127.0.0.1).")
    ] = None,
) -> None:
    """Run the dispatcher, receipts and housekeeping alone, without the API."""
    settings = _start(demo=False, host="", port=0)
    if metrics_port is not None:
        # The API serves /metrics itself; a worker on its own needs a port of its own.
        start_http_server(metrics_port, addr="127.0.0.1")
    uvloop.run(_run(settings, "", 0, api=False, worker=True))
