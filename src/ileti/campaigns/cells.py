"""A spreadsheet's values as the text a message and a phone number take.

Excel keeps every number as a float. A phone typed into a number cell comes back whole
(``905321234567.0`` is ``905321234567``); one that went through Excel's display and back
(``5.32123E+09``, six digits left) has lost digits no reader can restore: its cell is
``damaged``, so that the preview reports it rather than sending to a different number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

# Below this a number is no phone (a price, a count): it is never called damaged.
_PHONE_SIZED = 10_000_000
# Whole floats above this are not all exact; Excel's own limit is 15 digits.
_EXACT = 2**53
# Excel's General format shows at most six significant digits in scientific notation.
_DISPLAYED_DIGITS = 6
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE]\+\d+")


@dataclass(frozen=True, slots=True)
class Cell:
    """A cell as text. ``damaged``: a number the size of a phone that has lost digits (stored as
    a float that is not a whole number, or written as ``5.32123E+09``): its text is what is
    left, and it must be reported, never sent to a different number."""

    text: str
    damaged: bool = False


EMPTY = Cell("")


def text_cell(value: str) -> Cell:
    """A cell written as text: trimmed; damaged when it is a number in scientific notation
    (what a CSV saved from Excel holds for a long number in a narrow column)."""
    text = value.strip()
    if not text:
        return EMPTY
    if "+" in text and _SCIENTIFIC.fullmatch(text):
        return Cell(text, damaged=True)
    return Cell(text)


class CellMaker:
    """The cells of one file's values, sharing one ``Cell`` among equal texts (names, cities and
    amounts repeat down a column): fewer objects to make and to keep for a million rows. The
    first ``_SHARED`` distinct texts are remembered, so that a file of unique values costs a
    bounded table."""

    _SHARED = 65_536

    def __init__(self) -> None:
        self._seen: dict[str, Cell] = {"": EMPTY}

    def values(self, values: Sequence[object]) -> list[Cell]:
        seen = self._seen
        return [
            (seen.get(value) or self._made(value)) if type(value) is str else value_cell(value)
            for value in values
        ]

    def value(self, value: object) -> Cell:
        if type(value) is str:
            return self._seen.get(value) or self._made(value)
        return value_cell(value)

    def _made(self, value: str) -> Cell:
        cell = text_cell(value)
        if len(self._seen) < self._SHARED:
            self._seen[value] = cell
        return cell


def value_cell(value: object) -> Cell:
    """A cell as calamine gives it: text, a whole number with every digit, a float, a date or
    time as ISO text (``2024-03-15``, ``2024-03-15 14:30:00``), a truth value as TRUE/FALSE."""
    if isinstance(value, str):
        return text_cell(value)
    if isinstance(value, bool):
        return Cell("TRUE" if value else "FALSE")
    if isinstance(value, int):
        return Cell(str(value))
    if isinstance(value, float):
        return _float_cell(value)
    if isinstance(value, datetime):
        return Cell(value.isoformat(sep=" "))
    if isinstance(value, date | time):
        return Cell(value.isoformat())
    if isinstance(value, timedelta):
        return Cell(str(value))
    return EMPTY


def _float_cell(value: float) -> Cell:
    whole = value.is_integer() and abs(value) < _EXACT
    text = str(int(value)) if whole else repr(value)
    if abs(value) < _PHONE_SIZED:
        return Cell(text)
    damaged = not whole or len(text.lstrip("-").rstrip("0")) <= _DISPLAYED_DIGITS
    return Cell(text, damaged)
