"""Billing: the ledger of both balances, newest first, the price list, and (owners) the
low-balance threshold."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.responses import Response
from starlette.routing import Route

from ileti.codes import GatewayError
from ileti.domain.numbers import country_name
from ileti.domain.pricing import Balance
from ileti.web.i18n import Translator
from ileti.web.pages import Screen, page

PAGE_SIZE = 50
# Every country the price list does not name.
EVERY_OTHER = "*"


# Turkish alphabetical order: ç after c, ğ after g, ı before i, ö after o, ş after s, ü after u.
_TURKISH_ORDER = str.maketrans({"ç": "c~", "ğ": "g~", "ı": "h~", "ö": "o~", "ş": "s~", "ü": "u~"})


def _sort_key(lang: str, name: str) -> str:
    if lang != "tr":
        return name.lower()
    return name.replace("İ", "i").replace("I", "ı").lower().translate(_TURKISH_ORDER)


def in_name_order(t: Translator, regions: Iterable[str]) -> list[tuple[str, str]]:
    """Each region with its country's name in the language, in that language's order."""
    named = [(region, t.text(country_name(region))) for region in regions]
    return sorted(named, key=lambda pair: _sort_key(t.lang, pair[1]))


@page
async def billing(screen: Screen) -> Response:
    return await _billing_page(screen)


async def _billing_page(screen: Screen, status: int = 200, **context: object) -> Response:
    chosen = screen.query.get("balance", "")
    balance = Balance(chosen) if chosen in set(Balance) else None
    given = screen.query.get("before", "")
    before = int(given) if given.isascii() and given.isdigit() and len(given) < 19 else None
    accounts = screen.services.accounts
    entries, next_before = await accounts.ledger(
        screen.account_id, limit=PAGE_SIZE, balance=balance, before=before
    )
    # The account's own prices: a reseller's customer pays what its reseller set.
    table = await screen.services.resellers.prices(screen.account_id)
    others = table.pop(EVERY_OTHER, None)
    threshold = screen.user.low_balance_threshold
    context.setdefault("threshold", "" if threshold is None else str(threshold))
    return screen.render(
        "billing/billing.html",
        status,
        balances=await accounts.balances(screen.account_id),
        entries=entries,
        balance=balance.value if balance else "",
        before=before,
        next_before=next_before,
        prices=[(region, name, table[region]) for region, name in in_name_order(screen.t, table)],
        others=others,
        done=screen.query.get("done", ""),
        **context,
    )


@page(owner=True)
async def low_balance(screen: Screen) -> Response:
    """The threshold below which the panel shows a banner and ``account.low_balance`` goes to
    the webhooks that ask for it; empty: none."""
    typed = screen.field("threshold").strip()
    threshold: int | None = None
    if typed:
        if not (typed.isascii() and typed.isdigit() and len(typed) <= 12):
            error = screen.t.text("The threshold is a whole number of credits (empty: none).")
            return await _billing_page(screen, 400, threshold_error=error, threshold=typed)
        threshold = int(typed)
    try:
        await screen.services.accounts.set_low_balance(screen.account_id, threshold)
    except GatewayError as error:
        said = screen.refusal(error)
        return await _billing_page(screen, 400, threshold_error=said, threshold=typed)
    return screen.redirect("/panel/billing?done=threshold#low-balance")


routes = [
    Route("/billing", billing, methods=["GET"]),
    Route("/billing/low-balance", low_balance, methods=["POST"]),
]
