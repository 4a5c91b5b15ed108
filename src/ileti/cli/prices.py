"""``ileti price``: the price table for international destinations, and an account's own
prices over it (a reseller's customer's never below its reseller's)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ileti.cli.app import app
from ileti.cli.common import lira_to_kurus, run_with_services, show

if TYPE_CHECKING:
    from ileti.services import Services

AccountOption = Annotated[
    str | None, typer.Option("--account", help="An account's own price, not the installation's.")
]

price_app = typer.Typer(
    help="Prices per segment for destinations outside Turkey, in TRY.", no_args_is_help=True
)
app.add_typer(price_app, name="price")


def _region(region: str) -> str:
    region = region.strip().upper()
    if region == "TR":
        raise typer.BadParameter("messages to Turkey cost one credit per segment from main credits")
    if region != "*" and not (len(region) == 2 and region.isalpha()):
        raise typer.BadParameter("a region is a two-letter ISO code, or * for every other country")
    return region


@price_app.command("set")
def price_set(
    region: Annotated[str, typer.Argument(help="ISO code such as DE, or * for the rest.")],
    price: Annotated[str, typer.Argument(help="TRY per segment, e.g. 1.60.")],
    account: AccountOption = None,
) -> None:
    """Set a country's price per segment (charged to the international balance)."""
    code, kurus = _region(region), lira_to_kurus(price)

    async def work(services: Services) -> None:
        if account is None:
            await services.prices.set(code, kurus)
        else:
            await services.resellers.set_account_price(account, code, kurus)

    run_with_services(work)
    whose = "" if account is None else f" for {account}"
    typer.echo(f"{code}: {kurus / 100:.2f} TRY per segment{whose}")


@price_app.command("reset")
def price_reset(region: str, account: AccountOption = None) -> None:
    """Back to the shipped price for a country (with --account: to the price it inherits)."""
    code = _region(region)

    async def work(services: Services) -> bool:
        if account is None:
            return await services.prices.reset(code)
        return await services.resellers.reset_account_price(account, code)

    changed = run_with_services(work)
    back = "shipped price" if account is None else f"{account} pays the price it inherits"
    typer.echo(f"{code}: {back}" + ("" if changed else " (it had no price of its own)"))


@price_app.command("list")
def price_list(
    account: AccountOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Every price in force: the operator's own over the shipped table; with --account, that
    account's own over what it inherits."""
    from ileti.domain.pricing import DEFAULT_PRICES

    async def work(services: Services) -> tuple[dict[str, int], dict[str, int] | None]:
        if account is None:
            return await services.prices.table(), None
        return await services.resellers.account_prices(account)

    table, own = run_with_services(work)

    def source(region: str, kurus: int) -> str:
        if own is not None:
            return "account" if region in own else "inherited"
        return "shipped" if DEFAULT_PRICES.get(region) == kurus else "operator"

    rows = [
        {"region": region, "try_per_segment": f"{kurus / 100:.2f}", "source": source(region, kurus)}
        for region, kurus in sorted(table.items())
    ]
    title = "Prices per segment" + ("" if account is None else f" of {account}")
    show(rows, ["region", "try_per_segment", "source"], json_output, title)
