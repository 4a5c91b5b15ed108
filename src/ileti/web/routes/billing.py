"""Billing: the ledger of both balances, newest first, and the price list."""

from __future__ import annotations

import phonenumbers
from phonenumbers import geocoder
from starlette.responses import Response
from starlette.routing import Route

from ileti.domain.pricing import Balance
from ileti.web.pages import Screen, page

PAGE_SIZE = 50
# Every country the price list does not name.
EVERY_OTHER = "*"


def _country(region: str) -> str:
    """A region's English name (the catalogue has its Turkish one)."""
    example = phonenumbers.example_number(region)
    return (geocoder.country_name_for_number(example, "en") if example else "") or region


# Turkish alphabetical order: ç after c, ğ after g, ı before i, ö after o, ş after s, ü after u.
_TURKISH_ORDER = str.maketrans({"ç": "c~", "ğ": "g~", "ı": "h~", "ö": "o~", "ş": "s~", "ü": "u~"})


def _sort_key(lang: str, name: str) -> str:
    if lang != "tr":
        return name.lower()
    return name.replace("İ", "i").replace("I", "ı").lower().translate(_TURKISH_ORDER)


@page
async def billing(screen: Screen) -> Response:
    chosen = screen.query.get("balance", "")
    balance = Balance(chosen) if chosen in set(Balance) else None
    given = screen.query.get("before", "")
    before = int(given) if given.isascii() and given.isdigit() and len(given) < 19 else None
    accounts = screen.services.accounts
    entries, next_before = await accounts.ledger(
        screen.account_id, limit=PAGE_SIZE, balance=balance, before=before
    )
    table = await screen.services.prices.table()
    others = table.pop(EVERY_OTHER, None)
    prices = sorted(
        ((region, screen.t.text(_country(region)), kurus) for region, kurus in table.items()),
        key=lambda row: _sort_key(screen.t.lang, row[1]),
    )
    return screen.render(
        "billing/billing.html",
        balances=await accounts.balances(screen.account_id),
        entries=entries,
        balance=balance.value if balance else "",
        before=before,
        next_before=next_before,
        prices=prices,
        others=others,
    )


routes = [Route("/billing", billing, methods=["GET"])]
