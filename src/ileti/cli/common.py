"""What the commands share: settings, a migrated database, output as tables or JSON."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from ileti.config import Settings, get_settings
from ileti.domain.errors import AlreadyExists, NotFound
from ileti.services import Services
from ileti.store import migrate
from ileti.store.db import open_database

T = TypeVar("T")

console = Console()
errors = Console(stderr=True)


def run_with_services(
    work: Callable[[Services], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Migrate, open the database, run ``work`` on the services, close; what cannot be done
    (an unknown name, a duplicate, a bad value) becomes a clean exit 1."""
    settings = settings or get_settings()
    migrate.upgrade(settings.database_url, settings.database_schema)

    async def main() -> T:
        db = open_database(settings)
        try:
            return await work(Services.create(settings, db))
        finally:
            await db.close()

    try:
        return asyncio.run(main())
    except (NotFound, AlreadyExists, ValueError) as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


def show(rows: Sequence[dict[str, Any]], columns: Sequence[str], as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(list(rows), default=str, ensure_ascii=False))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    console.print(table)


def show_one(row: dict[str, Any], as_json: bool, title: str) -> None:
    """One record: a field per line for people (too wide as a row), a one-item list as JSON."""
    if as_json:
        typer.echo(json.dumps([row], default=str, ensure_ascii=False))
        return
    table = Table(title=title, show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for name, value in row.items():
        table.add_row(name, _cell(value))
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)


def lira_to_kurus(amount: str) -> int:
    """'12.50' TRY → 1250 kuruş, exactly (no float on the way)."""
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise typer.BadParameter(f"{amount!r} is not an amount in TRY") from None
    kurus = value * 100
    if kurus != kurus.to_integral_value() or kurus < 0:
        raise typer.BadParameter("an amount in TRY has at most two decimals and is not negative")
    return int(kurus)
