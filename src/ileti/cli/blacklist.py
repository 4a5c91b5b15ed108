"""``ileti blacklist``: an account's blacklist, as the operator keeps it for the account (the
same list, and the same rules, as ``/blacklist/*``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ileti.cli.app import app
from ileti.cli.common import run_with_services, show

if TYPE_CHECKING:
    from ileti.compliance.blacklist import ListedNumber
    from ileti.services import Services

blacklist_app = typer.Typer(
    help="Numbers an account never sends to (and its recipients' RET opt-outs).",
    no_args_is_help=True,
)
app.add_typer(blacklist_app, name="blacklist")

Account = Annotated[str, typer.Argument(help="The account's name.")]
Number = Annotated[str, typer.Argument(help="A number, e.g. 905321234567 or 0532 123 45 67.")]


@blacklist_app.command("add")
def blacklist_add(account: Account, number: Number) -> None:
    """Refuse every send of the account to the number; adding it again changes nothing."""

    async def work(services: Services) -> str:
        return await services.blacklist.add_for(account, number)

    typer.echo(f"{run_with_services(work)} is on the blacklist of {account}")


@blacklist_app.command("remove")
def blacklist_remove(account: Account, number: Number) -> None:
    """Take a number off the account's list (a recipient's own RET opt-out stays)."""

    async def work(services: Services) -> str:
        return await services.blacklist.remove_for(account, number)

    typer.echo(f"{run_with_services(work)} is off the blacklist of {account}")


@blacklist_app.command("list")
def blacklist_list(
    account: Account,
    limit: Annotated[int, typer.Option(min=1, max=1_000_000, help="At most this many.")] = 1000,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """The account's listed numbers, newest first."""

    async def work(services: Services) -> list[ListedNumber]:
        return await services.blacklist.listed(account, limit)

    rows = [
        {
            "number": entry.number,
            "scope": entry.scope,
            "source": entry.source,
            "created_at": entry.created_at.isoformat(timespec="seconds"),
        }
        for entry in run_with_services(work)
    ]
    show(rows, ["number", "scope", "source", "created_at"], json_output, f"Blacklist of {account}")
