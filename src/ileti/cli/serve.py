"""What runs in the gateway's processes (``ileti serve``, ``api``, ``worker``): uvicorn and
the worker, started and stopped in order. The commands are in ``cli/processes.py``, which
imports this only when one of them starts.

``ileti serve`` with API processes (``ILETI_API_PROCESSES``, 1 by default on a machine with more
than one core): this process binds the port, runs the worker and starts the API processes
(``cli/api_process.py``), which share the port and ring the worker (``wakeups.Bell``) when they
queue work. The API then has a core of its own: dispatch, receipts and webhooks never wait in
line with requests on one event loop.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import math
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import structlog
import typer
import uvicorn
import uvloop
from prometheus_client import start_http_server

from ileti import logs
from ileti.accounts.demo import (
    DEMO_ACCOUNT,
    DEMO_TITLE,
    DemoKey,
    DemoOwner,
    ensure_demo,
    ensure_demo_owner,
)
from ileti.api.app import create_app
from ileti.cli.common import run_with_services
from ileti.config import Settings, get_settings
from ileti.dispatch.worker import Worker
from ileti.services import Services
from ileti.store import migrate
from ileti.store.db import open_database
from ileti.wakeups import Bell

log = structlog.get_logger("ileti")


class _ApiServer(uvicorn.Server):
    """uvicorn, less its own signal handling: the process stops the API, then the worker."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True)
class _Listen:
    """Where the API listens: an address, or a socket an ``ileti serve`` process bound."""

    host: str = "127.0.0.1"
    port: int = 8000
    socket: socket.socket | None = None


def _api_server(services: Services, listen: _Listen) -> uvicorn.Server:
    # httptools, with the limits on heads, stalls and connections per address uvicorn lacks.
    from ileti.api.protocol import http_protocol

    config = uvicorn.Config(
        create_app(services),
        host=listen.host,
        port=listen.port,
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


async def _run(
    settings: Settings,
    listen: _Listen | None,
    *,
    worker: bool,
    api_processes: _ApiProcesses | None = None,
    bell_fd: int | None = None,
) -> None:
    """The parts of one process: the API on ``listen``, the worker, the API processes it
    supervises; ``bell_fd``: where this API process rings the worker of another."""
    db = open_database(settings)
    signals = _Signals()
    try:
        services = Services.create(settings, db)
        # An API process of ``serve`` leaves it to the process that started it.
        if (warning := services.keyring.warning) is not None and bell_fd is None:
            log.warning("secret_key_not_set", detail=warning)
        if bell_fd is not None:
            services.wakeups.listen(Bell.ringer(bell_fd))
        runner = Worker(settings, db, services.clock, services.keyring) if worker else None
        server = _api_server(services, listen) if listen is not None else None
        parts: dict[str, asyncio.Task[None]] = {}
        if runner is not None:
            # Messages and events queued in this process wake the worker at once; those of
            # the API processes, through their bell.
            services.wakeups.listen(runner.wake)
            if api_processes is not None:
                api_processes.bell.hear(runner.wake)
            parts["worker"] = asyncio.create_task(runner.run())
        if server is not None:
            sockets = [listen.socket] if listen is not None and listen.socket else None
            parts["api"] = asyncio.create_task(server.serve(sockets))
        if api_processes is not None:
            # Started once the services have made the key file, if it was missing: each API
            # process reads the same one.
            parts["api processes"] = asyncio.create_task(api_processes.run())
        signalled = asyncio.create_task(signals.stop.wait())
        # Runs until a signal, or until a part ends on its own (it failed).
        await asyncio.wait([*parts.values(), signalled], return_when=asyncio.FIRST_COMPLETED)
        signalled.cancel()
        await _stop(server, api_processes, runner, parts, signals, settings.shutdown_seconds)
        for task in parts.values():
            if not task.cancelled() and (error := task.exception()) is not None:
                raise error
    finally:
        signals.close()
        await db.close()


async def _stop(
    server: uvicorn.Server | None,
    api_processes: _ApiProcesses | None,
    runner: Worker | None,
    parts: dict[str, asyncio.Task[None]],
    signals: _Signals,
    seconds: float,
) -> None:
    """In order: the API answers the requests it has and takes no more (here and in the API
    processes), then the worker sees the batches its carriers hold answered and recorded;
    within ``seconds``, or at once on a second signal. Then every part is cancelled (the worker
    unbinds from its carriers)."""
    log.info("stopping", seconds=seconds)

    async def orderly() -> None:
        if server is not None:
            server.should_exit = True
            await asyncio.wait([parts["api"]])
        if api_processes is not None:
            await api_processes.stop()
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
        if api_processes is not None:
            api_processes.hurry()
    for task in (stopping, hurry, *parts.values()):
        task.cancel()
    await asyncio.gather(stopping, hurry, *parts.values(), return_exceptions=True)
    if api_processes is not None:
        await api_processes.wait()
        api_processes.bell.close()
    log.info("stopped")


class _ApiProcesses:
    """The API processes of ``ileti serve``: started, started again if one dies, stopped."""

    RESTART_SECONDS = 1.0
    # One that exits this soon after it started, this many times in a row, cannot start (a
    # setting it refuses, a port it cannot use): the gateway stops instead of trying forever.
    EARLY_SECONDS = 10.0
    EARLY_EXITS = 3

    def __init__(self, count: int, listen: socket.socket) -> None:
        self.count = count
        self.listen = listen
        self.bell = Bell.open()
        self._running: set[asyncio.subprocess.Process] = set()
        self._stopping = False

    async def run(self) -> None:
        await asyncio.gather(*(self._keep_one(index) for index in range(self.count)))

    async def _keep_one(self, index: int) -> None:
        early = 0
        while not self._stopping:
            started = time.monotonic()
            process = await self._start()
            self._running.add(process)
            try:
                code = await process.wait()
            finally:
                self._running.discard(process)
                _forget(process.pid)
            if self._stopping:
                return
            log.error("api_process_exited", index=index, pid=process.pid, exit_code=code)
            early = early + 1 if time.monotonic() - started < self.EARLY_SECONDS else 0
            if early >= self.EARLY_EXITS:
                raise RuntimeError(f"API process {index} exited {early} times as it started")
            await asyncio.sleep(self.RESTART_SECONDS)

    async def _start(self) -> asyncio.subprocess.Process:
        fds = (self.listen.fileno(), self.bell.write_fd)
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ileti.cli.api_process",
            *(str(fd) for fd in fds),
            str(os.getpid()),
            pass_fds=fds,
            # Its own session: a Ctrl-C reaches this process alone, which stops the API
            # processes in order (a second one, sent straight to them, would cut them short).
            start_new_session=True,
        )

    async def stop(self) -> None:
        """Each API process answers the requests it has and exits."""
        self._stopping = True
        self._signal_all()
        await self.wait()

    def hurry(self) -> None:
        """A second signal: each exits at once."""
        self._stopping = True
        self._signal_all()

    async def wait(self) -> None:
        while self._running:
            await asyncio.gather(*(process.wait() for process in list(self._running)))

    def _signal_all(self) -> None:
        for process in self._running:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)


def _forget(pid: int) -> None:
    """A process that has exited no longer counts in the gauges of /metrics."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


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

        async def demo_logins(services: Services) -> tuple[DemoKey, DemoOwner]:
            key = await ensure_demo(services.db, services.settings, services.clock)
            owner = await ensure_demo_owner(services.db, services.settings, services.clock)
            return key, owner

        key, owner = run_with_services(demo_logins, settings)
        typer.echo(_demo_text(key, owner, f"http://{host}:{port}"))
    _tune_gc()
    return settings


def _demo_text(demo: DemoKey, owner: DemoOwner, base: str) -> str:
    """The demo's key, and lines to paste into a shell: the balance, then a message and its
    status a second later (by then the simulator has delivered it); then the panel's address
    and its owner's login."""
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
        f"\nThe panel, in a browser: {base}/panel/\n"
        f"  email:    {owner.email}\n"
        f"  password: {owner.password}\n"
    )


def run_serve(host: str, port: int, *, demo: bool, api_processes: int) -> None:
    """The whole gateway: in one process, or the worker here and the API in ``api_processes``
    processes of its own sharing the port."""
    settings = _start(demo=demo, host=host, port=port)
    listen = _Listen(host, port)
    if api_processes == 0:
        uvloop.run(_run(settings, listen, worker=True))
        return
    bound = uvicorn.Config(app="", host=host, port=port).bind_socket()
    log.info("serving", url=f"http://{host}:{port}", api_processes=api_processes)
    if api_processes > 1 and settings.redis_url is None:
        log.warning(
            "key_limits_per_process",
            detail="each API process counts a key's requests per minute on its own; set"
            " ILETI_REDIS_URL to share the count",
        )
    uvloop.run(_run(settings, None, worker=True, api_processes=_ApiProcesses(api_processes, bound)))


def run_api_process(listen_fd: int, bell_fd: int, parent: int) -> None:
    """One API process of ``ileti serve``, on the socket it bound."""
    _die_with(parent)
    settings = get_settings()
    logs.configure(settings.log_level)
    _tune_gc()
    listen = _Listen(socket=socket.socket(fileno=listen_fd))
    uvloop.run(_run(settings, listen, worker=False, bell_fd=bell_fd))


def _die_with(parent: int) -> None:
    """Exit when the ``ileti serve`` process that started this one does, even by kill -9: an
    API process left behind would hold the port and accept messages no worker sends."""
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:
        raise SystemExit(0)  # it died before this process could ask to follow it


def run_api(host: str, port: int) -> None:
    """The API alone."""
    settings = _start(demo=False, host=host, port=port)
    uvloop.run(_run(settings, _Listen(host, port), worker=False))


def run_worker(metrics_port: int | None) -> None:
    """The worker alone; its metrics on a port of its own, if asked."""
    settings = _start(demo=False, host="", port=0)
    if metrics_port is not None:
        # The API serves /metrics itself; a worker on its own needs a port of its own.
        start_http_server(metrics_port, addr="127.0.0.1")
    uvloop.run(_run(settings, None, worker=True))
