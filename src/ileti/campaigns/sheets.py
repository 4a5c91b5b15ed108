"""A customer file as a table: ``.csv`` (with the gateway's one CSV reader), ``.xlsx``, ``.xls``
and ``.ods`` (with calamine), one sheet of it, with column names and every row's line as the
user sees it in Excel.

What is refused is refused before it costs anything: the file's size before anything else, a
zip package's uncompressed size from its directory before calamine opens it (``packages``), the
rows and columns while they are read. A file whose content is not what its name says, a
corrupt one and a password-protected one are refused with a message that says so.
"""

from __future__ import annotations

import csv
import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePath

from ileti.campaigns import packages, workbooks
from ileti.campaigns.cells import EMPTY, Cell, CellMaker
from ileti.campaigns.limits import FileLimits, FileRefused, megabytes
from ileti.compliance.contact_files import fold, lines, records

__all__ = ["Cell", "FileLimits", "FileRefused", "Row", "Table", "column_names", "read_table"]


@dataclass(frozen=True, slots=True)
class Row:
    """A row with a cell for every column of its table; ``line``: its row number in Excel
    (1-based, the header counted)."""

    line: int
    cells: list[Cell]


@dataclass(frozen=True)
class Table:
    sheet: str | None  # None for a CSV file
    sheets: list[str]
    columns: list[str]
    rows: list[Row] = field(repr=False)


CSV = {".csv", ".txt", ".tsv"}
WORKBOOKS = {".xlsx", ".xlsm", ".xls", ".ods"}


def read_table(
    data: bytes,
    file_name: str,
    *,
    sheet: str | None = None,
    header: bool = True,
    encoding: str | None = None,
    limits: FileLimits = FileLimits(),
) -> Table:
    """The rows of a file (of one sheet of a workbook: ``sheet``, else the first with data).
    ``header``: the first row names the columns; else, and for a header cell left empty (as
    merged cells leave all but the first), a column is ``Column 3``. Empty rows are skipped.
    ``FileRefused`` for what cannot be read."""
    if len(data) > limits.max_bytes:
        raise FileRefused(
            f"The file is larger than {megabytes(limits.max_bytes)}; split it into smaller files."
        )
    with _collector_paused():
        return _read(data, file_name, sheet, header, encoding, limits)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A million rows are millions of new objects and no cycles: the cycle collector would walk
    them over and over while they are made (a third of the reading time), so it waits."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _read(
    data: bytes,
    file_name: str,
    sheet: str | None,
    header: bool,
    encoding: str | None,
    limits: FileLimits,
) -> Table:
    suffix = PurePath(file_name).suffix.lower()
    if suffix in CSV:
        return _shaped(None, [], _csv_rows(data, file_name, encoding), header, limits)
    if suffix in WORKBOOKS:
        book = workbooks.open_book(data, file_name, suffix, limits)
        chosen = workbooks.chosen_sheet(book, sheet)
        return _shaped(chosen.name, book.sheet_names, workbooks.rows(chosen), header, limits)
    kinds = ", ".join(sorted(CSV | WORKBOOKS))
    raise FileRefused(
        f"“{file_name}” cannot be read: upload a file of one of these types: {kinds}."
    )


def _csv_rows(data: bytes, file_name: str, encoding: str | None) -> Iterator[list[Cell]]:
    if packages.kind(data) != "other" or b"\0" in data:
        raise FileRefused(
            f"“{file_name}” is named as a text (CSV) file but is not text; give it the name its "
            "content has and upload it again."
        )
    try:
        text = lines(data, encoding)
    except LookupError:
        raise FileRefused(f"“{encoding}” is not a character encoding.") from None
    cells = CellMaker()
    try:
        for record in records(text):
            yield cells.texts(record)
    except UnicodeDecodeError:
        raise FileRefused(f"“{file_name}” is not {encoding} text.") from None
    except csv.Error as error:
        raise FileRefused(f"“{file_name}” is not a readable CSV file ({error}).") from None


def _shaped(
    sheet: str | None,
    sheets: list[str],
    raw: Iterable[list[Cell]],
    header: bool,
    limits: FileLimits,
) -> Table:
    """The table of raw rows: empty rows dropped, every row as wide as the widest."""
    rows: list[Row] = []
    names: list[str] | None = None
    width = 0
    for line, cells in enumerate(raw, start=1):
        used = len(cells)
        while used and not cells[used - 1].text:
            used -= 1
        if not used:
            continue
        if used > limits.max_columns:
            raise FileRefused(
                f"{_where(sheet)} has more than {limits.max_columns} columns (row {line}); "
                "remove the columns the messages do not need."
            )
        cells = cells[:used]  # also sized exactly: a list as it was built has room to spare
        width = max(width, used)
        if header and names is None:
            names = [cell.text for cell in cells]
        elif len(rows) == limits.max_rows:
            raise FileRefused(
                f"{_where(sheet)} has more than {limits.max_rows:,} rows; split it into "
                "smaller files."
            )
        else:
            rows.append(Row(line, cells))
    if not rows:
        below = " below its header" if names else ""
        raise FileRefused(f"{_where(sheet)} has no rows{below}.")
    for row in rows:
        if len(row.cells) < width:
            row.cells.extend([EMPTY] * (width - len(row.cells)))
    return Table(sheet, sheets, column_names(names or [], width), rows)


def column_names(header: list[str], width: int) -> list[str]:
    """A name for every column: its header; ``Column 3`` for one without; a name that another
    column already has (written any way) with ``2``, ``3``… after it."""
    names: list[str] = []
    taken: set[str] = set()
    for index in range(width):
        given = header[index] if index < len(header) else ""
        name = given or f"Column {index + 1}"
        candidate, copy = name, 1
        while fold(candidate) in taken:
            copy += 1
            candidate = f"{name} {copy}"
        names.append(candidate)
        taken.add(fold(candidate))
    return names


def _where(sheet: str | None) -> str:
    return "The file" if sheet is None else f"The sheet “{sheet}”"
