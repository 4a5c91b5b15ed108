"""What a message costs. Domestic: one credit per segment from the main balance. Elsewhere:
the destination country's price per segment, in kuruş, from the international balance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Balance(StrEnum):
    """Which of an account's balances pays: main credits, or international kuruş."""

    MAIN = "main"
    INTERNATIONAL = "international"


# The shipped table, in kuruş per segment; the operator's own prices (``ileti price set``)
# override it, and "*" prices every country it does not name.
DEFAULT_PRICES: Mapping[str, int] = {
    "*": 250,
    "AZ": 180,
    "DE": 160,
    "FR": 170,
    "GB": 150,
    "GG": 150,
    "IM": 150,
    "JE": 150,
    "NL": 170,
    "US": 60,
    "CA": 60,
    "RU": 220,
    "SA": 190,
    "AE": 160,
    "IQ": 200,
    "GE": 180,
    "KZ": 210,
    "TM": 260,
    "CY": 120,
    "GR": 150,
    "BG": 140,
}


@dataclass(frozen=True, slots=True)
class Price:
    balance: Balance
    amount: int  # credits, or kuruş


def price_of(
    region: str, segments: int, domestic: bool, prices: Mapping[str, int] = DEFAULT_PRICES
) -> Price:
    if domestic:
        return Price(Balance.MAIN, segments)
    per_segment = prices.get(region, prices.get("*", DEFAULT_PRICES["*"]))
    return Price(Balance.INTERNATIONAL, per_segment * segments)


def amount_text(balance: Balance, value: int) -> str:
    """An amount as a refusal tells it: credits as a count, the international balance in TRY."""
    if balance is Balance.MAIN:
        return f"{value:,} credit{'s' if value != 1 else ''}"
    return f"{value / 100:,.2f} TRY"
