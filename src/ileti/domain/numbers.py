"""Phone numbers: one normal form (international digits, no ``+``), country and operator.

Turkish mobiles, nearly all of the traffic, take a fast path: a regular expression and a cache
of what ``phonenumbers`` says of each operator prefix. Everything else goes through a full
``phonenumbers`` parse (cached too), which costs tens of microseconds a number.

Only numbers that can receive SMS are accepted: mobiles, and numbers that the numbering plan
cannot tell from a landline (``FIXED_LINE_OR_MOBILE``, as in the United States). Digits are
ASCII: a full-width or Arabic-Indic digit is not a digit of a phone number here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import PhoneNumberType, carrier

from ileti.domain.regions import ENGLISH_NAMES

_SEPARATORS = str.maketrans("", "", " -().\t/")
_TURKISH_MOBILE = re.compile(r"(?:\+90|0090|90|0)?(5[0-9]{9})")
_DIGITS = re.compile(r"\+?[0-9]{6,16}")

# What a number that is valid but cannot take an SMS is, in the words of a refusal.
_NOT_FOR_SMS = {
    PhoneNumberType.FIXED_LINE: "a landline",
    PhoneNumberType.TOLL_FREE: "a toll-free number",
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.VOIP: "a VoIP number",
    PhoneNumberType.PERSONAL_NUMBER: "a personal (forwarding) number",
    PhoneNumberType.PAGER: "a pager",
    PhoneNumberType.UAN: "a company's single number (UAN)",
    PhoneNumberType.VOICEMAIL: "a voicemail access number",
}
_RECEIVES_SMS = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


class InvalidNumber(ValueError):
    """Not a phone number, or one that cannot receive SMS (``reason`` says which)."""

    def __init__(self, raw: str, reason: str = "is not a valid phone number") -> None:
        super().__init__(raw)
        self.reason = reason


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


def normalise(raw: str, *, receiving: bool = True) -> PhoneNumber:
    """``+90 532 123 45 67``, ``0532 123 45 67``, ``5321234567`` → ``905321234567``.

    With ``receiving`` (the default) a valid number that cannot receive SMS (a landline, a
    toll-free number…) is refused too, its ``reason`` saying what it is; without it, any valid
    number is taken (to look up what was sent to it).
    """
    found = lookup(raw, receiving=receiving)
    if isinstance(found, str):
        raise InvalidNumber(raw, found)
    return found


NOT_A_NUMBER = "is not a valid phone number"


def lookup(raw: str, *, receiving: bool = True) -> PhoneNumber | str:
    """As ``normalise``, but answers why a number is refused instead of raising: a group checks
    100,000 of them, and an exception costs more than the check."""
    # Most numbers come as bare digits, which have nothing to strip: the translation costs a
    # third of the look-up.
    compact = raw if raw.isdigit() else raw.strip().translate(_SEPARATORS)
    mobile = _TURKISH_MOBILE.fullmatch(compact)
    if mobile:
        subscriber = mobile.group(1)
        region, country, operator, refusal = _turkish_prefix(subscriber[:3])
        if region is None:
            return NOT_A_NUMBER
        if refusal is not None and receiving:
            return refusal
        # What ``PhoneNumber(…)`` does, without the Python-level ``__new__`` (half the cost).
        return tuple.__new__(PhoneNumber, ("90" + subscriber, region, country, operator))
    if not _DIGITS.fullmatch(compact):
        return NOT_A_NUMBER
    if compact.startswith("0") and not compact.startswith("00"):
        number, refusal = _parse(compact, "TR")
    else:
        number, refusal = _parse("+" + compact.lstrip("+").removeprefix("00"), None)
    if number is None:
        return NOT_A_NUMBER
    if refusal is not None and receiving:
        return refusal
    return number


def _refusal(number: phonenumbers.PhoneNumber) -> str | None:
    """Why a valid number cannot receive SMS, or None when it can."""
    kind = phonenumbers.number_type(number)
    if kind in _RECEIVES_SMS:
        return None
    what = _NOT_FOR_SMS.get(kind, "not a mobile number")
    return f"is {what}, which cannot receive SMS"


@lru_cache(maxsize=256)
def _turkish_prefix(operator_code: str) -> tuple[str | None, str, str | None, str | None]:
    """(region, country, operator, refusal) for a Turkish 5xx prefix, looked up once."""
    sample = phonenumbers.parse(f"+90{operator_code}2345678")
    if not phonenumbers.is_valid_number(sample):
        return None, "", None, None
    operator = carrier.name_for_number(sample, "en") or None
    return "TR", _country_name(sample), operator, _refusal(sample)


@lru_cache(maxsize=65_536)
def _parse(text: str, region: str | None) -> tuple[PhoneNumber | None, str | None]:
    """The number and why it cannot receive SMS (None when it can); (None, None) when it is no
    number. Cached whole: an invalid number is not parsed again either."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None, None
    if not phonenumbers.is_valid_number(number):
        return None, None
    iso = phonenumbers.region_code_for_number(number) or "ZZ"
    digits = f"{number.country_code}{number.national_number}"
    if number.italian_leading_zero:
        digits = f"{number.country_code}{'0' * (number.number_of_leading_zeros or 1)}"
        digits += str(number.national_number)
    found = PhoneNumber(
        digits, iso, _country_name(number), carrier.name_for_number(number, "en") or None
    )
    return found, _refusal(number)


def _country_name(number: phonenumbers.PhoneNumber) -> str:
    """The English name of the number's country: of the one region its country code serves, or
    of the one of several where the number is valid (none when it is valid in more)."""
    regions = phonenumbers.region_codes_for_country_code(number.country_code or 0)
    if len(regions) > 1:
        regions = tuple(r for r in regions if phonenumbers.is_valid_number_for_region(number, r))
    return ENGLISH_NAMES.get(regions[0], "Unknown") if len(regions) == 1 else "Unknown"


def country_name(region: str) -> str:
    """A region's English name, or the region code when it has none."""
    return ENGLISH_NAMES.get(region, region)


def mask_number(number: str) -> str:
    """A number as a log line or an audit entry may show it: ``905321234567`` → ``90532*****67``.

    The country code and the operator's prefix stay (where traffic goes), and the last two
    digits (to tell numbers apart when talking to a person); five digits at least are hidden.
    """
    digits = number.removeprefix("+")
    tail = 2 if len(digits) >= 8 else 0
    head = max(0, min(5, len(digits) - tail - 5))
    hidden = len(digits) - head - tail
    return digits[:head] + "*" * hidden + digits[len(digits) - tail :]
