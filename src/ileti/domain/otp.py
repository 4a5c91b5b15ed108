"""One-time passwords: codes, templates and their keyed hashes. Pure: no I/O.

A code is stored only as an HMAC keyed with a server secret and bound to its OTP's id, so the
database alone does not give the codes back, and a hash cannot be moved to another OTP.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from enum import IntEnum

PLACEHOLDERS = ("TS-CODE", "TS_CODE")
_PLACEHOLDER = re.compile("TS[-_]CODE")
MIN_DIGITS, MAX_DIGITS, DEFAULT_DIGITS = 4, 6, 6
MIN_TTL, MAX_TTL, DEFAULT_TTL = 60, 1800, 300
MASK = "•"


class OtpLang(IntEnum):
    """``lang`` of ``/otp/send``: the template's language, and the encoding (``sms_lang``)."""

    ENGLISH = 0
    TURKISH = 1
    ARABIC = 2


# What ships; the operator can replace each (``ileti otp template set``).
DEFAULT_TEMPLATES: dict[OtpLang, str] = {
    OtpLang.ENGLISH: "Your verification code is TS-CODE. Do not share it with anyone.",
    OtpLang.TURKISH: "Doğrulama kodunuz: TS-CODE. Bu kodu kimseyle paylaşmayın.",
    OtpLang.ARABIC: "رمز التحقق الخاص بك هو TS-CODE. لا تشاركه مع أي شخص.",
}


class NoPlaceholder(ValueError):
    """A template without ``TS-CODE``."""


def new_code(digits: int) -> str:
    """A uniformly random code of exactly ``digits`` digits; leading zeros allowed."""
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise ValueError(f"an OTP has {MIN_DIGITS} to {MAX_DIGITS} digits")
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def check_template(text: str) -> str:
    if not _PLACEHOLDER.search(text):
        raise NoPlaceholder(f"the text must contain {PLACEHOLDERS[0]}")
    return text


def render(template: str, code: str) -> str:
    """The text with every placeholder replaced by the code."""
    return _PLACEHOLDER.sub(code, check_template(template))


def masked(template: str, code: str) -> str:
    """The text as it is kept once sent: the code's digits hidden."""
    return render(template, MASK * len(code))


def code_hash(secret: bytes, otp_id: str, code: str) -> str:
    return hmac.new(secret, f"{otp_id}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(secret: bytes, otp_id: str, code: str, stored_hash: str) -> bool:
    """Constant-time: the time taken says nothing about how close a guess was."""
    return hmac.compare_digest(code_hash(secret, otp_id, code), stored_hash)


def new_otp_id() -> str:
    return f"otp_{secrets.token_hex(12)}"
