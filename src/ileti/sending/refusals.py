"""Refusals that say what to do: what a send needed and what the account has, and the title a
refused title was probably meant to be."""

from __future__ import annotations

from collections.abc import Iterable

from ileti import codes
from ileti.codes import GatewayError
from ileti.domain.pricing import Balance, amount_text
from ileti.validation import quoted

# Letters people type for one another in a title: case, and the Turkish letters of a keyboard
# set to Turkish (dotted and dotless i among them).
_FOLD = str.maketrans("İIıŞşĞğÇçÖöÜü", "iiissggccoouu")


def _folded(title: str) -> str:
    return title.translate(_FOLD).casefold()


def meant_title(given: str, owned: Iterable[str]) -> str | None:
    """The account's title that ``given`` differs from only in case or Turkish letters."""
    folded = _folded(given)
    for title in sorted(owned):
        if title != given and _folded(title) == folded:
            return title
    return None


def unknown_title(given: str, owned: Iterable[str]) -> GatewayError:
    """TS-1029, naming the account's title that was probably meant."""
    meant = meant_title(given, owned)
    if meant is None:
        return GatewayError(
            codes.TITLE_UNKNOWN, f"Sender ID (title) {quoted(given)} is unknown for this account."
        )
    return GatewayError(
        codes.TITLE_UNKNOWN,
        f"Sender ID (title) {quoted(given)} is unknown; the account has {quoted(meant)}"
        " (titles are case-sensitive).",
    )


def insufficient(balance: Balance, needed: int, available: int) -> GatewayError:
    """TS-1027 with what the messages need and what the balance has."""
    which = "main balance" if balance is Balance.MAIN else "international balance"
    return GatewayError(
        codes.INSUFFICIENT_BALANCE,
        f"Insufficient balance: the messages need {amount_text(balance, needed)};"
        f" the account's {which} has {amount_text(balance, available)}.",
    )
