"""``ileti serve``: the gateway in one process on the embedded database."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from ileti import logs
from ileti.api.app import create_app
from ileti.cli.app import app
from ileti.cli.common import run_with_db
from ileti.config import get_settings
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
        if account.credits < DEMO_CREDITS // 10:
            await account_store.topup(conn, account.id, Balance.MAIN, DEMO_CREDITS)
        for old in await key_store.list_keys(conn, account.id):
            if not old.revoked:
                await key_store.revoke_key(conn, old.prefix)
        key, _ = await key_store.create_key(conn, account.id)
    return key


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Create a demo account, title and key; print the key.")
    ] = False,
) -> None:
    """Run the gateway: the API on HOST:PORT over the configured database (SQLite by default)."""
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
            f'-d \'{{"api_key": "{key}"}}\'\n'
        )
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        server_header=False,
    )
