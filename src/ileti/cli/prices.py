"""``ileti price``: the price table for international destinations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ileti.cli.app import app
from ileti.cli.common import lira_to_kurus, run_with_services, show

if TYPE_CHECKING:
    from ileti.services import Services

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
) -> None:
    """Set a country's price per segment (charged to the international balance)."""
    code, kurus = _region(region), lira_to_kurus(price)

    async def work(services: Services) -> None:
        await services.prices.set(code, kurus)

    run_with_services(work)
    typer.echo(f"{code}: {kurus / 100:.2f} TRY per segment")


@price_app.command("reset")
def price_reset(region: str) -> None:
    """Back to the shipped price for a country."""
    code = _region(region)

    async def work(services: Services) -> bool:
        return await services.prices.reset(code)

    changed = run_with_services(work)
    typer.echo(f"{code}: shipped price" + ("" if changed else " (it had no price of its own)"))


@price_app.command("list")
def price_list(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Every price in force: the operator's own over the shipped table."""
    from ileti.domain.pricing import DEFAULT_PRICES

    async def work(services: Services) -> dict[str, int]:
        return await services.prices.table()

    table = run_with_services(work)
    rows = [
        {
            "region": region,
            "try_per_segment": f"{kurus / 100:.2f}",
            "source": "shipped" if DEFAULT_PRICES.get(region) == kurus else "operator",
        }
        for region, kurus in sorted(table.items())
    ]
    show(rows, ["region", "try_per_segment", "source"], json_output, "Prices per segment")
