"""TOTP codes as RFC 6238 defines them (its SHA-1 test vectors), and the drift allowed."""

from __future__ import annotations

import base64

from ileti.domain import totp

# RFC 6238, appendix B: the ASCII secret "12345678901234567890", 8-digit codes; the last six
# digits are the 6-digit code.
SECRET = base64.b32encode(b"12345678901234567890").decode().rstrip("=")
VECTORS = {59: "94287082", 1111111109: "07081804", 1234567890: "89005924", 2000000000: "69279037"}


def test_codes_match_the_rfc_vectors() -> None:
    for seconds, code in VECTORS.items():
        assert totp.code_at(SECRET, seconds // 30) == code[-6:]


def test_a_code_of_the_step_before_or_after_is_accepted_and_no_other() -> None:
    now = 1234567890.0
    step = int(now // 30)
    assert totp.matching_step(SECRET, totp.code_at(SECRET, step - 1), now) == step - 1
    assert totp.matching_step(SECRET, totp.code_at(SECRET, step + 1), now) == step + 1
    assert totp.matching_step(SECRET, totp.code_at(SECRET, step + 2), now) is None
    assert totp.matching_step(SECRET, "12345", now) is None
    assert totp.matching_step(SECRET, "abcdef", now) is None
    spaced = totp.code_at(SECRET, step)
    assert totp.matching_step(SECRET, f"{spaced[:3]} {spaced[3:]}", now) == step


def test_the_provisioning_address_names_the_issuer_and_user() -> None:
    uri = totp.provisioning_uri("ABC", "ayse@acme.test", "ileti")
    assert uri.startswith("otpauth://totp/ileti%3Aayse%40acme.test?")
    assert "secret=ABC" in uri and "issuer=ileti" in uri
