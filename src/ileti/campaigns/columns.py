"""Which column of a table holds the phone numbers: the one named, else the one whose header
says so, else the one whose values look like mobile numbers."""

from __future__ import annotations

import re

from ileti.campaigns.cells import Cell
from ileti.campaigns.limits import FileRefused
from ileti.campaigns.sheets import Sheet, Table
from ileti.compliance.contact_files import fold

__all__ = ["fold", "phone_column"]

# Headers folded: a phone word, then nothing or a word for "number" (``Tel No``, ``GSM
# Numarası``, ``Phone Number``, ``Cep Telefonu``).
_PHONE_WORDS = (
    "telefon",
    "telefonu",
    "tel",
    "gsm",
    "cep",
    "ceptelefonu",
    "ceptel",
    "numara",
    "phone",
    "telephone",
    "mobile",
    "mobil",
    "cell",
    "msisdn",
    "number",
)
_NUMBER_WORDS = ("", "no", "nr", "num", "numara", "numarasi", "number")
_PHONE_HEADERS = {word + suffix for word in _PHONE_WORDS for suffix in _NUMBER_WORDS}
# Digits with the spaces, dashes, dots, parentheses and + people write them with.
_PHONE_LIKE = re.compile(r"\+?[\d\s().-]+")
_DIGITS = range(10, 16)


def phone_column(table: Table | Sheet, named: str | None = None) -> int:
    """The index of the phone column; ``FileRefused`` when the named one is not a column or no
    column holds phone numbers."""
    folded = [fold(column) for column in table.columns]
    if named is not None:
        if fold(named) in folded:
            return folded.index(fold(named))
        raise FileRefused(f"There is no column “{named}”; the columns are {_listed(table)}.")
    phone_like = [_phone_like_share(sample) for sample in table.samples]
    by_header = [i for i, name in enumerate(folded) if name in _PHONE_HEADERS]
    if by_header:
        return max(by_header, key=lambda index: phone_like[index])
    best = max(range(len(phone_like)), key=lambda index: phone_like[index], default=None)
    if best is None or phone_like[best] <= 0.5:
        raise FileRefused(
            "No column holds phone numbers; name the phone column (the columns are "
            f"{_listed(table)})."
        )
    return best


def _phone_like_share(sample: list[Cell]) -> float:
    """The share of a column's first non-empty cells that look like phone numbers."""
    if not sample:
        return 0.0
    return sum(_looks_like_phone(cell) for cell in sample) / len(sample)


def _looks_like_phone(cell: Cell) -> bool:
    """Digits as people write phones, 10 to 15 of them; or a phone Excel damaged."""
    if cell.damaged:
        return True
    digits = sum(char.isdigit() for char in cell.text)
    return digits in _DIGITS and bool(_PHONE_LIKE.fullmatch(cell.text))


def _listed(table: Table | Sheet) -> str:
    return ", ".join(f"“{column}”" for column in table.columns)
