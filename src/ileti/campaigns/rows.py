"""A file's rows made into recipients: the phone cell and the personalised text of each row, or
the reason the row cannot be sent (a damaged number, a placeholder left empty, a text over the
segment cap).

A campaign may have a million rows: they are kept as three parallel columns (line, number,
text) rather than an object each: the numbers as ``Texts`` (a buffer of their bytes), the texts
as the values that fill the template (``Filled``), each text built again when it is read.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field

from ileti import codes
from ileti.campaigns.cells import Cell
from ileti.campaigns.sheets import Row
from ileti.campaigns.template import EmptyField, Filled, Template
from ileti.codes import ResultCode
from ileti.domain.encoding import MessageTooLong, SmsLang, measure
from ileti.sending.orders import TextColumn, Texts
from ileti.validation import has_control, has_text

_NO_CELL = Cell("")
# UTF-16 units in a segment of a long Unicode message, the least any encoding carries: a text
# of at most half of this many characters per segment (a GSM escape takes two septets, an
# emoji two units) fits under the cap whatever its encoding, so only longer ones are measured.
_LEAST_PER_SEGMENT = 67


@dataclass(frozen=True, slots=True)
class Reject:
    """A row that is not sent, and why (``result``: the code a send gives for the same)."""

    line: int
    sentto: str
    reason: str
    result: ResultCode


@dataclass
class Rows:
    """The rows that can go: ``lines[i]`` (as the user sees it), ``numbers[i]`` (the phone cell
    as written), ``texts[i]``; and the rows that cannot."""

    total: int = 0
    lines: array[int] = field(default_factory=lambda: array("I"))
    numbers: Texts = field(default_factory=Texts)
    texts: TextColumn = field(default_factory=Texts)
    rejects: list[Reject] = field(default_factory=list)


def recipients(
    table: Iterable[Row], phone: int, template: Template, lang: SmsLang, max_segments: int
) -> Rows:
    """Each row's number and text, or its rejection (``table``: the rows, read once)."""
    texts = Filled(template)
    rows = Rows(texts=texts)
    lines, numbers, rejects = rows.lines, rows.numbers, rows.rejects
    longest_unmeasured = _LEAST_PER_SEGMENT * max_segments // 2
    for row in table:
        rows.total += 1
        cells = row.cells
        cell = cells[phone] if phone < len(cells) else _NO_CELL
        number = cell.text.strip()
        if cell.damaged:
            rejects.append(
                Reject(
                    row.line,
                    number,
                    "The number was stored as a number and lost digits"
                    " (format the column as text in Excel).",
                    codes.INVALID_NUMBER,
                )
            )
            continue
        if not number:
            rejects.append(
                Reject(row.line, "", "No number in the phone column.", codes.NUMBER_MISSING)
            )
            continue
        try:
            values = template.values(cells)
        except EmptyField as empty:
            rejects.append(
                Reject(
                    row.line,
                    number,
                    f"{{{empty.placeholder}}} is empty in this row and has no default.",
                    codes.TEXT_EMPTY,
                )
            )
            continue
        refused = _text_refusal(template.fill(values), lang, max_segments, longest_unmeasured)
        if refused is not None:
            rejects.append(Reject(row.line, number, *refused))
            continue
        lines.append(row.line)
        numbers.append(number)
        texts.append(values)
    return rows


def _text_refusal(
    text: str, lang: SmsLang, max_segments: int, longest_unmeasured: int
) -> tuple[str, ResultCode] | None:
    if not has_text(text):
        return "The personalised message is empty.", codes.TEXT_EMPTY
    if has_control(text):
        return "The personalised message holds a control character.", codes.INVALID_FIELD
    if len(text) > longest_unmeasured:
        try:
            measure(text, lang, max_segments)
        except MessageTooLong as exc:
            return (
                f"The message takes {exc.segments} segments; the cap is {exc.cap}.",
                codes.TOO_LONG,
            )
    return None
