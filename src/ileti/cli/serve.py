"""What runs in the gateway's processes (``ileti serve``, ``api``, ``worker``): uvicorn and
the worker, started and stopped in order. The commands are in ``cli/processes.py``, which
imports this only when one of them starts."""

from __future__ import annotations

import asyncio
import gc
import math
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
import typer
import uvicorn
import uvloop
from prometheus_client import start_http_server

from ileti import logs
from ileti.accounts.demo import DEMO_ACCOUNT, DEMO_TITLE, DemoKey, ensure_demo
from ileti.api.app import create_app
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
    # httptools, with the limits on heads, stalls and connections per address uvicorn lacks.
    from ileti.api.protocol import http_protocol

    config = uvicorn.Config(
        create_app(services),
        host=host,
        port=port,
        loop="uvloop",
        http=http_protocol(services.settings),
        access_log=False,
        log_config=None,
        server_header=False,
        # X-Forwarded-For is read by the API alone, from ILETI_TRUSTED_PROXIES only.
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
        if (warning := services.keyring.warning) is not None:
            log.warning("secret_key_not_set", detail=warning)
        runner = Worker(settings, db, services.clock, services.keyring) if worker else None
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

        async def demo_key(services: Services) -> DemoKey:
            return await ensure_demo(services.db, services.settings, services.clock)

        typer.echo(_demo_text(run_with_services(demo_key, settings), f"http://{host}:{port}"))
    _tune_gc()
    return settings


def _demo_text(demo: DemoKey, base: str) -> str:
    """The demo's key, and lines to paste into a shell: the balance, then a message and its
    status a second later (by then the simulator has delivered it)."""
    key, json_body = demo.key, "-H 'Content-Type: application/json' -d"
    send = (
        f'{{"api_key": "{key}", "title": "{DEMO_TITLE}", "sentto": "905321234567",'
        ' "text": "Merhaba!"}'
    )
    return (
        f"\nDemo account '{DEMO_ACCOUNT}' with title '{DEMO_TITLE}'. Its key, the same at every"
        f" start (kept in {demo.kept_in}):\n\n  {key}\n\n"
        "Try it in another terminal: the balance, then a message and, a second later, its"
        " status:\n\n"
        f'  curl -s {base}/balance {json_body} \'{{"api_key": "{key}"}}\'; echo\n\n'
        f"  sent=$(curl -s {base}/sms/send {json_body} '{send}'); echo \"$sent\"\n"
        """  id=$(echo "$sent" | sed 's/.*"sms_id":\\([0-9]*\\).*/\\1/')\n"""
        f"  sleep 1; curl -s {base}/sms/status {json_body}"
        f""" '{{"api_key": "{key}", "sms_id": '"$id"'}}'; echo\n"""
    )


def run_serve(host: str, port: int, *, demo: bool) -> None:
    """The whole gateway in one process."""
    settings = _start(demo=demo, host=host, port=port)
    uvloop.run(_run(settings, host, port, api=True, worker=True))


def run_api(host: str, port: int) -> None:
    """The API alone."""
    settings = _start(demo=False, host=host, port=port)
    uvloop.run(_run(settings, host, port, api=True, worker=False))


def run_worker(metrics_port: int | None) -> None:
    """The worker alone; its metrics on a port of its own, if asked."""
    settings = _start(demo=False, host="", port=0)
    if metrics_port is not None:
        # The API serves /metrics itself; a worker on its own needs a port of its own.
        start_http_server(metrics_port, addr="127.0.0.1")
    uvloop.run(_run(settings, "", 0, api=False, worker=True))
