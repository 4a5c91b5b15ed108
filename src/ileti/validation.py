"""Fields every door gives the services, checked the one way: phone numbers, languages, content
types, ranges. A refusal is a ``GatewayError`` that names the field, whichever door it came in
by (the API's JSON, a panel's form, a file's column)."""

from __future__ import annotations

import unicodedata

from ileti import codes
from ileti.codes import GatewayError
from ileti.domain.encoding import InvalidSmsLang, SmsLang, parse_sms_lang
from ileti.domain.numbers import InvalidNumber, PhoneNumber, normalise

CONTENT_TYPES = {0: "Transactional", 1: "High Quality", 2: "Advertising"}
ADVERTISING = 2


def quoted(value: object, limit: int = 32) -> str:
    """What a message may echo of a caller's input: at most ``limit`` characters, with control
    and bidirectional-formatting characters written as escapes, so an answer or a log line
    shows what was sent and cannot be rearranged by it."""
    text = str(value)
    shown = "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in _UNSHOWN else c for c in text[:limit]
    )
    return shown + ("…" if len(text) > limit else "")


# Control, format (bidi marks and overrides among them), surrogate, private-use, unassigned.
_UNSHOWN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def invalid(field: str, message: str) -> GatewayError:
    """TS-1035, naming the field and what is wrong with it."""
    return GatewayError(
        codes.INVALID_FIELD,
        f"Invalid field {field}: {message}.",
        errors=[{"field": field, "message": message}],
    )


def phone_number(raw: object, field: str) -> PhoneNumber:
    """A number in any form people write one (``+90 532 …``, ``0532 …``, ``5321234567``) in its
    normal form, or TS-1034 naming the field."""
    try:
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise InvalidNumber(str(raw))
        return normalise(str(raw))
    except InvalidNumber:
        raise GatewayError(
            codes.INVALID_NUMBER,
            f"Invalid phone number: {quoted(raw)}.",
            errors=[{"field": field, "message": "is not a valid phone number"}],
        ) from None


def sms_lang(value: object, field: str = "sms_lang") -> SmsLang:
    """0 English, 1 Turkish, 2 Unicode (the default) or ``"auto"``."""
    if value is None:
        return SmsLang.UNICODE
    try:
        return parse_sms_lang(value)
    except InvalidSmsLang:
        raise invalid(field, "must be 0, 1, 2 or 'auto'") from None


def content_type(value: int | None) -> int:
    """0 Transactional (the default), 1 High Quality, 2 Advertising."""
    if value is None:
        return 0
    if value not in CONTENT_TYPES:
        raise invalid("content_type", "must be 0, 1 or 2")
    return value


def within(field: str, value: int | None, low: int, high: int, default: int) -> int:
    """A whole number from ``low`` to ``high``, or ``default`` when none is given."""
    if value is None:
        return default
    if isinstance(value, bool) or not low <= value <= high:
        raise invalid(field, f"must be {low} to {high}")
    return value
