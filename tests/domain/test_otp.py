"""OTP codes, templates and hashes."""

from __future__ import annotations

from collections import Counter

import pytest

from ileti.domain import otp


@pytest.mark.parametrize("digits", [4, 5, 6])
def test_codes_have_exactly_the_digits_asked_for_leading_zeros_included(digits: int) -> None:
    codes = [otp.new_code(digits) for _ in range(3000)]
    assert all(len(c) == digits and c.isdigit() for c in codes)
    # About a tenth start with 0: the code is drawn over the whole range, not from 10^(n-1).
    leading_zero = sum(c[0] == "0" for c in codes) / len(codes)
    assert 0.07 < leading_zero < 0.13
    # Every digit shows up at every position about as often as any other.
    for position in range(digits):
        counts = Counter(c[position] for c in codes)
        assert len(counts) == 10 and min(counts.values()) > 200


@pytest.mark.parametrize("digits", [3, 7, 0])
def test_other_lengths_are_refused(digits: int) -> None:
    with pytest.raises(ValueError):
        otp.new_code(digits)


def test_every_placeholder_of_either_spelling_becomes_the_code() -> None:
    assert otp.render("Kod: TS-CODE (tekrar: TS_CODE)", "0123") == "Kod: 0123 (tekrar: 0123)"
    assert otp.masked("Kod: TS-CODE", "0123") == "Kod: ••••"
    with pytest.raises(otp.NoPlaceholder):
        otp.render("Kod: TS CODE", "0123")
    for text in otp.DEFAULT_TEMPLATES.values():
        assert otp.check_template(text) == text


def test_a_hash_is_keyed_and_bound_to_its_otp() -> None:
    stored = otp.code_hash(b"k" * 32, "otp_1", "123456")
    assert "123456" not in stored
    assert otp.code_matches(b"k" * 32, "otp_1", "123456", stored)
    assert not otp.code_matches(b"k" * 32, "otp_1", "123457", stored)
    assert not otp.code_matches(b"k" * 32, "otp_2", "123456", stored)
    assert not otp.code_matches(b"x" * 32, "otp_1", "123456", stored)
