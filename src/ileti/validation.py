"""Fields every door gives the services, checked the one way: phone numbers, languages, content
types, whole numbers, texts and titles. A refusal is a ``GatewayError`` that names the field,
whichever door it came in by (the API's JSON, a panel's form, a file's column).

Types are not coerced: a boolean is never a number, a float is not a whole number, a negative
number is not a phone number. Where the contract's clients send a number as a string of digits
(``sms_lang``, ``scheduled_sms``, ids, phone numbers), the string is taken too.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TypeGuard

from ileti import codes
from ileti.codes import GatewayError
from ileti.domain.encoding import InvalidSmsLang, SmsLang, parse_sms_lang
from ileti.domain.numbers import InvalidNumber, PhoneNumber, normalise

CONTENT_TYPES = {0: "Transactional", 1: "High Quality", 2: "Advertising"}
ADVERTISING = 2

# Control characters other than tab, newline and carriage return: nothing a handset shows, and
# NUL ends a C string somewhere on the way to the operator.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def quoted(value: object, limit: int = 32) -> str:
    """What a message may echo of a caller's input: at most ``limit`` characters, with control
    and bidirectional-formatting characters written as escapes, so an answer or a log line
    shows what was sent and cannot be rearranged by it."""
    text = str(value)
    if len(text) <= limit and text.isascii() and text.isprintable():
        return text  # nothing to escape: the common case, at C speed
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


def is_whole(value: object) -> TypeGuard[int]:
    """A JSON integer: not ``true``, not ``1.0``, not ``"1"``."""
    return isinstance(value, int) and not isinstance(value, bool)


def phone_number(raw: object, field: str, *, receiving: bool = True) -> PhoneNumber:
    """A number in any form people write one (``+90 532 …``, ``0532 …``, ``5321234567``) in its
    normal form; TS-1035 for what is no string or whole number (or is negative), TS-1034 naming
    the field and saying why for a string that is no number, or (``receiving``) a number that
    cannot receive SMS."""
    if not (isinstance(raw, str) or is_whole(raw)):
        raise invalid(field, "must be a string or an integer")
    if isinstance(raw, int) and raw < 0:
        raise invalid(field, "must not be negative")
    try:
        return normalise(str(raw), receiving=receiving)
    except InvalidNumber as exc:
        raise GatewayError(
            codes.INVALID_NUMBER,
            f"Invalid phone number: {quoted(raw)} {exc.reason}.",
            errors=[{"field": field, "message": exc.reason}],
        ) from None


def sms_lang(value: object, field: str = "sms_lang") -> SmsLang:
    """0 English, 1 Turkish, 2 Unicode (the default) or ``"auto"``; the digits also as strings."""
    if value is None:
        return SmsLang.UNICODE
    try:
        return parse_sms_lang(value)
    except InvalidSmsLang:
        raise invalid(field, "must be 0, 1, 2 or 'auto'") from None


def content_type(value: object) -> int:
    """0 Transactional (the default), 1 High Quality, 2 Advertising."""
    if value is None:
        return 0
    if not is_whole(value) or value not in CONTENT_TYPES:
        raise invalid("content_type", "must be 0, 1 or 2")
    assert isinstance(value, int)
    return value


IYS_RECIPIENT_TYPES = ("BIREYSEL", "TACIR")


def iys_recipient_type(value: object) -> str:
    """Whose consent an Advertising message needs in İYS: an individual's (``BIREYSEL``, the
    default) or a trader's (``TACIR``)."""
    if value is None:
        return IYS_RECIPIENT_TYPES[0]
    if value not in IYS_RECIPIENT_TYPES:
        raise invalid("iys_recipient_type", "must be BIREYSEL or TACIR")
    assert isinstance(value, str)
    return value


def within(field: str, value: object, low: int, high: int, default: int) -> int:
    """A whole number from ``low`` to ``high``, or ``default`` when none is given."""
    if value is None:
        return default
    if not is_whole(value):
        raise invalid(field, "must be an integer")
    assert isinstance(value, int)
    if not low <= value <= high:
        raise invalid(field, f"must be {low} to {high}")
    return value


def has_text(value: object) -> bool:
    """Whether a text says anything: one of only spaces (or none) is empty."""
    return isinstance(value, str) and not value.isspace() and value != ""


def has_control(value: str) -> bool:
    """Whether a text holds a control character other than tab, newline, carriage return."""
    return _CONTROL.search(value) is not None


def text(value: object, field: str = "text") -> str:
    """A message's text: no control characters but tab, newline and carriage return."""
    if not isinstance(value, str):
        raise invalid(field, "must be a string")
    found = _CONTROL.search(value)
    if found is not None:
        raise invalid(field, f"contains the control character {quoted(found.group())}")
    return value


def title(value: object, field: str = "title") -> str:
    """A sender ID as given: required, a string, no control characters."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise invalid(field, "is required")
    if not isinstance(value, str):
        raise invalid(field, "must be a string")
    return text(value, field)
