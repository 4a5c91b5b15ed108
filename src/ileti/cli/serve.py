"""``ileti serve``: the gateway in one process on the embedded database."""

from __future__ import annotations

import asyncio
import gc
from typing import Annotated

import typer
import uvicorn
import uvloop
from prometheus_client import start_http_server

from ileti import logs
from ileti.api.app import create_app
from ileti.cli.app import app
from ileti.cli.common import run_with_db
from ileti.config import Settings, get_settings
from ileti.dispatch.worker import Worker
from ileti.store import accounts as account_store
from ileti.store import keys as key_store
from ileti.store import migrate
from ileti.store.db import Database
from ileti.store.ledger import Balance

DEMO_ACCOUNT = "demo"
DEMO_TITLE = "ILETI"
DEMO_CREDITS = 1000


async def ensure_demo(db: Database) -> str:
    """The demo account and title (made once) and a fresh demo key (older ones revoked)."""
    async with db.write() as conn:
        try:
            account = await account_store.find_account(conn, DEMO_ACCOUNT)
        except account_store.NotFound:
            account = await account_store.create_account(conn, DEMO_ACCOUNT, credits=DEMO_CREDITS)
            await account_store.add_title(conn, account.id, DEMO_TITLE, active=True)
            await account_store.set_otp(conn, account.id, title=DEMO_TITLE)
        if account.credits < DEMO_CREDITS // 10:
            await account_store.topup(conn, account.id, Balance.MAIN, DEMO_CREDITS)
        for old in await key_store.list_keys(conn, account.id):
            if not old.revoked:
                await key_store.revoke_key(conn, old.prefix)
        key, _ = await key_store.create_key(conn, account.id)
    return key


def _api_server(settings: Settings, db: Database, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(settings, db),
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
    )
    return uvicorn.Server(config)


async def _run(settings: Settings, host: str, port: int, *, api: bool, worker: bool) -> None:
    db = settings.database()
    try:
        tasks = []
        if worker:
            runner = Worker(settings, db)
            tasks.append(asyncio.create_task(runner.run()))
        if api:
            server = _api_server(settings, db, host, port)
            if worker:
                server.config.app.state.api.on_queued.append(runner.wake)
            tasks.append(asyncio.create_task(server.serve()))
        # The API server returns on a signal; the worker runs until it is cancelled.
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()
    finally:
        await db.close()


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
        key = run_with_db(ensure_demo, settings)
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
