"""``ileti privacy``: KVKK requests about a phone number, answered by the operator: everything
kept about it as JSON, or its erasure (texts emptied, the number replaced by a keyed hash; the
ledger and the İYS consent records stay). Both are written to each account's audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ileti.cli.app import app
from ileti.cli.common import run_with_services

if TYPE_CHECKING:
    from ileti.services import Services

privacy_app = typer.Typer(
    help="KVKK: what is kept about a phone number, exported or erased.", no_args_is_help=True
)
app.add_typer(privacy_app, name="privacy")

Number = Annotated[str, typer.Argument(help="A number, e.g. 905321234567 or 0532 123 45 67.")]
AccountOption = Annotated[
    str | None, typer.Option("--account", help="Only this account's (default: every account's).")
]


@privacy_app.command("export")
def privacy_export(number: Number, account: AccountOption = None) -> None:
    """Print as JSON everything kept about the number (also what an erasure left of it)."""
    import orjson

    async def work(services: Services) -> dict[str, Any]:
        return await services.privacy.export(number, account)

    found = run_with_services(work)
    typer.echo(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode())


@privacy_app.command("erase")
def privacy_erase(
    number: Number,
    account: AccountOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask first.")] = False,
) -> None:
    """Empty the texts of the messages to the number and replace it by a keyed hash everywhere
    but the ledger and the İYS consent records; messages to it still queued are cancelled
    (and refunded), campaign files waiting to start in the accounts it is found in deleted."""
    where = f"account {account}" if account is not None else "every account"
    if not yes:
        typer.confirm(f"Erase {number} from {where}? This cannot be undone.", abort=True)

    async def work(services: Services) -> dict[str, int]:
        return await services.privacy.erase(number, account)

    for table, count in run_with_services(work).items():
        typer.echo(f"{table}: {count}")
    typer.echo(
        "The ledger, the İYS consent records and the blacklist (which keeps the refusal"
        " honoured) are kept as they are."
    )
