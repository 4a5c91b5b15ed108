"""The GSM 7-bit alphabets of 3GPP TS 23.038 that a Turkish gateway uses: the default alphabet
and its extension table (6.2.1, 6.2.1.1), the Turkish single shift table (A.2.1) and the Turkish
locking shift table (A.3.1).

Septets are kept one per octet, unpacked: that is what SMPP carries for data_coding 0.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping

ESCAPE = 0x1B  # the septet that reaches the single shift table
TURKISH = 0x01  # national language identifier

# Indexed by septet. Position 0x1B is the escape, never a character.
DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

TURKISH_LOCKING_SHIFT = (
    "@£$¥€éùıòÇ\nĞğ\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bŞşßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "İABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "çabcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

# Single shift tables: septet after the escape -> character.
DEFAULT_EXTENSION: Mapping[int, str] = {
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

TURKISH_SINGLE_SHIFT: Mapping[int, str] = {
    **DEFAULT_EXTENSION,
    0x47: "Ğ",
    0x49: "İ",
    0x53: "Ş",
    0x63: "ç",
    0x67: "ğ",
    0x69: "ı",
    0x73: "ş",
}

# Information element identifiers of the user data header (3GPP TS 23.040 9.2.3.24).
IEI_SINGLE_SHIFT = 0x24
IEI_LOCKING_SHIFT = 0x25


class Alphabet:
    """A locking shift table with the single shift table reached through the escape septet.

    A character in the locking shift table takes one septet; one only in the single shift table
    takes two (the escape and its code).
    """

    __slots__ = (
        "_decode_base",
        "_decode_shift",
        "_encoder",
        "escaped",
        "locking_shift_language",
        "name",
        "national_elements",
        "simple",
        "single_shift_language",
    )

    def __init__(
        self,
        name: str,
        locking_shift: str,
        single_shift: Mapping[int, str],
        *,
        locking_shift_language: int | None = None,
        single_shift_language: int | None = None,
    ) -> None:
        self.name = name
        self.locking_shift_language = locking_shift_language
        self.single_shift_language = single_shift_language
        self.simple = frozenset(locking_shift) - {chr(ESCAPE)}
        self.escaped = frozenset(single_shift.values()) - self.simple
        self._encoder: dict[int, bytes] = {
            ord(char): bytes([code]) for code, char in enumerate(locking_shift) if code != ESCAPE
        }
        for code, char in single_shift.items():
            self._encoder.setdefault(ord(char), bytes([ESCAPE, code]))
        self._decode_base = locking_shift
        # An escape to an empty position shows the locking shift character (TS 23.038 6.2.1.1);
        # the escape after an escape is shown as a space.
        shift = [single_shift.get(code, char) for code, char in enumerate(locking_shift)]
        shift[ESCAPE] = " "
        self._decode_shift = "".join(shift)
        elements = b""
        if single_shift_language is not None:
            elements += bytes([IEI_SINGLE_SHIFT, 1, single_shift_language])
        if locking_shift_language is not None:
            elements += bytes([IEI_LOCKING_SHIFT, 1, locking_shift_language])
        # The national language elements of the user data header, without its length octet.
        self.national_elements = elements

    def __repr__(self) -> str:
        return f"Alphabet({self.name!r})"

    def septets(self, char: str) -> int:
        """Septets one character takes, 0 when the alphabet cannot represent it."""
        if char in self.simple:
            return 1
        return 2 if char in self.escaped else 0

    def encode(self, text: str) -> bytes:
        """Septets, one per octet; UnicodeEncodeError for a character outside the alphabet."""
        return codecs.charmap_encode(text, "strict", self._encoder)[0]

    def decode(self, septets: bytes) -> str:
        decoded: list[str] = []
        start = 0
        while (escape := septets.find(ESCAPE, start)) != -1:
            decoded.append(_decode(septets[start:escape], self._decode_base))
            decoded.append(_decode(septets[escape + 1 : escape + 2], self._decode_shift))
            start = escape + 2
        decoded.append(_decode(septets[start:], self._decode_base))
        return "".join(decoded)


def _decode(septets: bytes, table: str) -> str:
    return codecs.charmap_decode(septets, "strict", table)[0]


GSM_DEFAULT = Alphabet("default", DEFAULT_ALPHABET, DEFAULT_EXTENSION)
GSM_TURKISH_SINGLE_SHIFT = Alphabet(
    "default + Turkish single shift",
    DEFAULT_ALPHABET,
    TURKISH_SINGLE_SHIFT,
    single_shift_language=TURKISH,
)
GSM_TURKISH_LOCKING_SHIFT = Alphabet(
    "Turkish locking shift",
    TURKISH_LOCKING_SHIFT,
    DEFAULT_EXTENSION,
    locking_shift_language=TURKISH,
)
GSM_TURKISH = Alphabet(
    "Turkish locking + single shift",
    TURKISH_LOCKING_SHIFT,
    TURKISH_SINGLE_SHIFT,
    locking_shift_language=TURKISH,
    single_shift_language=TURKISH,
)

# Fewest header elements first: the order breaks ties between equal segment counts.
TURKISH_ALPHABETS = (GSM_DEFAULT, GSM_TURKISH_SINGLE_SHIFT, GSM_TURKISH_LOCKING_SHIFT, GSM_TURKISH)

# sms_lang 0 sends Turkish text in the default alphabet, one letter for another.
TURKISH_TRANSLITERATION: Mapping[str, str] = {
    "ş": "s",
    "Ş": "S",
    "ğ": "g",
    "Ğ": "G",
    "ı": "i",
    "İ": "I",
    "ç": "c",
    "â": "a",
    "Â": "A",
    "î": "i",
    "Î": "I",
    "û": "u",
    "Û": "U",
}
