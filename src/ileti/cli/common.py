"""What the commands share: settings, a migrated database, output as tables or JSON.

The database, the services and rich are imported when a command runs, not when the command
line is read: ``ileti --help`` starts without them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from ileti.config import Settings
    from ileti.services import Services

T = TypeVar("T")

# Columns whose values other commands take as they are: never cut, never wrapped.
IDENTIFIERS = frozenset(
    {"id", "prefix", "key", "name", "title", "number", "region", "event_id", "sms_id", "otp_id"}
)


def run_with_services(
    work: Callable[[Services], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Migrate, open the database, run ``work`` on the services, close; what cannot be done
    (an unknown name, a duplicate, a bad value, a refusal with its TS code) becomes a clean
    exit 1."""
    from ileti.codes import GatewayError
    from ileti.config import get_settings
    from ileti.domain.errors import AlreadyExists, NotFound
    from ileti.services import Services
    from ileti.store import migrate
    from ileti.store.db import open_database

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
    except GatewayError as exc:
        fail(f"{exc.result.code} {exc.message}")
    except (NotFound, AlreadyExists, ValueError) as exc:
        fail(str(exc))


def fail(message: str) -> NoReturn:
    """Print ``message`` as an error and leave with exit code 1."""
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True).print(Text.assemble(("error:", "red"), " ", message))
    raise typer.Exit(1)


def show(rows: Sequence[dict[str, Any]], columns: Sequence[str], as_json: bool, title: str) -> None:
    """Rows as a table (or JSON). A row too wide for the terminal shrinks and wraps its other
    columns; identifiers keep their whole width."""
    if as_json:
        typer.echo(json.dumps(list(rows), default=str, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    for index, column in enumerate(columns):
        if column in IDENTIFIERS:
            widest = max([len(column), *(len(line[index]) for line in cells)])
            table.add_column(column, no_wrap=True, min_width=widest)
        else:
            table.add_column(column, overflow="fold")
    for line in cells:
        table.add_row(*line)
    Console().print(table)


def show_one(row: dict[str, Any], as_json: bool, title: str) -> None:
    """One record: a field per line for people (too wide as a row), a one-item list as JSON."""
    if as_json:
        typer.echo(json.dumps([row], default=str, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in row.items():
        table.add_row(name, _cell(value))
    Console().print(table)


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
