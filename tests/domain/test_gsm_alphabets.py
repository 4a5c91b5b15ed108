"""The GSM 7-bit tables as 3GPP TS 23.038 prints them."""

from __future__ import annotations

import pytest

from ileti.domain.gsm_alphabets import (
    DEFAULT_ALPHABET,
    DEFAULT_EXTENSION,
    GSM_DEFAULT,
    GSM_TURKISH,
    GSM_TURKISH_LOCKING_SHIFT,
    GSM_TURKISH_SINGLE_SHIFT,
    TURKISH_LOCKING_SHIFT,
    TURKISH_SINGLE_SHIFT,
    Alphabet,
)


def test_the_tables_have_one_character_per_septet() -> None:
    assert len(DEFAULT_ALPHABET) == len(TURKISH_LOCKING_SHIFT) == 128
    assert len(set(DEFAULT_ALPHABET)) == len(set(TURKISH_LOCKING_SHIFT)) == 128


@pytest.mark.parametrize(
    ("septet", "char"),
    [
        (0x00, "@"),
        (0x02, "$"),
        (0x09, "\u00c7"),  # capital C cedilla, as 3GPP prints it (an old mapping says small)
        (0x0A, "\n"),
        (0x0D, "\r"),
        (0x10, "\u0394"),  # Greek capital delta, not the increment sign
        (0x11, "_"),
        (0x15, "\u03a9"),  # Greek capital omega, not the ohm sign
        (0x24, "\u00a4"),
        (0x40, "\u00a1"),
        (0x5F, "\u00a7"),
        (0x60, "\u00bf"),
        (0x7F, "\u00e0"),
    ],
)
def test_default_alphabet(septet: int, char: str) -> None:
    assert DEFAULT_ALPHABET[septet] == char


def test_turkish_locking_shift_differs_from_the_default_only_where_3gpp_says() -> None:
    differences = {
        septet: char
        for septet, (char, default) in enumerate(
            zip(TURKISH_LOCKING_SHIFT, DEFAULT_ALPHABET, strict=True)
        )
        if char != default
    }
    assert differences == {
        0x04: "€",
        0x07: "ı",
        0x0B: "Ğ",
        0x0C: "ğ",
        0x1C: "Ş",
        0x1D: "ş",
        0x40: "İ",
        0x60: "ç",
    }


def test_extension_tables() -> None:
    assert DEFAULT_EXTENSION == {
        0x0A: "\f",
        0x14: "^",
        0x28: "{",
        0x29: "}",
        0x2F: "\\",
        0x3C: "[",
        0x3D: "~",
        0x3E: "]",
        0x40: "|",
        0x65: "€",
    }
    assert dict(TURKISH_SINGLE_SHIFT.items() - DEFAULT_EXTENSION.items()) == {
        0x47: "Ğ",
        0x49: "İ",
        0x53: "Ş",
        0x63: "ç",
        0x67: "ğ",
        0x69: "ı",
        0x73: "ş",
    }


# Septets (0: absent) of each Turkish letter in default, default + single shift, locking shift,
# and locking + single shift.
TURKISH_LETTERS = {
    "ş": (0, 2, 1, 1),
    "Ş": (0, 2, 1, 1),
    "ğ": (0, 2, 1, 1),
    "Ğ": (0, 2, 1, 1),
    "ı": (0, 2, 1, 1),
    "İ": (0, 2, 1, 1),
    "ç": (0, 2, 1, 1),
    "Ç": (1, 1, 1, 1),
    "ö": (1, 1, 1, 1),
    "Ö": (1, 1, 1, 1),
    "ü": (1, 1, 1, 1),
    "Ü": (1, 1, 1, 1),
    "€": (2, 2, 1, 1),
    "â": (0, 0, 0, 0),
    "è": (1, 1, 0, 0),
}
ALPHABETS = (GSM_DEFAULT, GSM_TURKISH_SINGLE_SHIFT, GSM_TURKISH_LOCKING_SHIFT, GSM_TURKISH)


@pytest.mark.parametrize(("letter", "septets"), TURKISH_LETTERS.items())
def test_each_turkish_letter_in_each_table(letter: str, septets: tuple[int, ...]) -> None:
    for alphabet, expected in zip(ALPHABETS, septets, strict=True):
        assert alphabet.septets(letter) == expected, alphabet
        if expected:
            encoded = alphabet.encode(letter)
            assert len(encoded) == expected
            assert alphabet.decode(encoded) == letter
        else:
            with pytest.raises(UnicodeEncodeError):
                alphabet.encode(letter)


def test_encoding_is_one_septet_per_octet() -> None:
    assert GSM_DEFAULT.encode("@Ça€[") == b"\x00\x09a\x1be\x1b<"
    assert GSM_TURKISH.encode("İşç€|") == b"\x40\x1d\x60\x04\x1b\x40"
    assert GSM_TURKISH_SINGLE_SHIFT.encode("Ayşe") == b"Ay\x1bse"


def test_decoding_follows_the_standard_for_unassigned_escapes() -> None:
    # An escape to an empty position shows the locking shift character; escape escape is a space.
    assert GSM_DEFAULT.decode(b"a\x1bAb\x1b\x1bc") == "aAb c"
    with pytest.raises(UnicodeDecodeError):
        GSM_DEFAULT.decode(b"\x80")


def test_national_language_elements() -> None:
    assert GSM_DEFAULT.national_elements == b""
    assert GSM_TURKISH_SINGLE_SHIFT.national_elements == b"\x24\x01\x01"
    assert GSM_TURKISH_LOCKING_SHIFT.national_elements == b"\x25\x01\x01"
    assert GSM_TURKISH.national_elements == b"\x24\x01\x01\x25\x01\x01"


def test_an_alphabet_is_named() -> None:
    assert isinstance(GSM_TURKISH, Alphabet)
    assert "Turkish" in repr(GSM_TURKISH)
