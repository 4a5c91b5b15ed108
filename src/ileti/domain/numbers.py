"""Phone numbers: one normal form (international digits, no ``+``), country and operator.

Turkish mobiles, nearly all of the traffic, take a fast path: a regular expression and a cache
of what ``phonenumbers`` says of each operator prefix. Everything else goes through a full
``phonenumbers`` parse (cached too), which costs tens of microseconds a number.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import carrier, geocoder

_SEPARATORS = str.maketrans("", "", " -().\t/")
_TURKISH_MOBILE = re.compile(r"(?:\+90|0090|90|0)?(5\d{9})")
_DIGITS = re.compile(r"\+?\d{6,16}")


class InvalidNumber(ValueError):
    pass


class PhoneNumber(NamedTuple):
    """A tuple: a group normalises 100,000 of them per request."""

    digits: str
    region: str
    country_name: str
    operator: str | None

    @property
    def country(self) -> str:
        """The contract's form: English name, dash, ISO code ("Turkey-TR")."""
        return f"{self.country_name}-{self.region}"

    @property
    def domestic(self) -> bool:
        return self.region == "TR"

    @property
    def calling_code(self) -> str:
        return str(phonenumbers.country_code_for_region(self.region))


def normalise(raw: str) -> PhoneNumber:
    """``+90 532 123 45 67``, ``0532 123 45 67``, ``5321234567`` → ``905321234567``."""
    compact = raw.strip().translate(_SEPARATORS)
    mobile = _TURKISH_MOBILE.fullmatch(compact)
    if mobile:
        subscriber = mobile.group(1)
        region, country, operator = _turkish_prefix(subscriber[:3])
        if region is None:
            raise InvalidNumber(raw)
        return PhoneNumber("90" + subscriber, region, country, operator)
    if not _DIGITS.fullmatch(compact):
        raise InvalidNumber(raw)
    if compact.startswith("0") and not compact.startswith("00"):
        return _parse(compact, "TR")
    return _parse("+" + compact.lstrip("+").removeprefix("00"), None)


@lru_cache(maxsize=256)
def _turkish_prefix(operator_code: str) -> tuple[str | None, str, str | None]:
    sample = phonenumbers.parse(f"+90{operator_code}2345678")
    if not phonenumbers.is_valid_number(sample):
        return None, "", None
    return "TR", _country_name(sample), carrier.name_for_number(sample, "en") or None


@lru_cache(maxsize=65_536)
def _parse(text: str, region: str | None) -> PhoneNumber:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidNumber(text) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidNumber(text)
    iso = phonenumbers.region_code_for_number(number) or "ZZ"
    digits = f"{number.country_code}{number.national_number}"
    if number.italian_leading_zero:
        digits = f"{number.country_code}{'0' * (number.number_of_leading_zeros or 1)}"
        digits += str(number.national_number)
    return PhoneNumber(
        digits, iso, _country_name(number), carrier.name_for_number(number, "en") or None
    )


def _country_name(number: phonenumbers.PhoneNumber) -> str:
    return geocoder.country_name_for_number(number, "en") or "Unknown"
