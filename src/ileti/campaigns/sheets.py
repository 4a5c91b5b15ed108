"""A customer file as a table: ``.csv`` (with the gateway's one CSV reader), ``.xlsx``, ``.xls``
and ``.ods`` (with calamine), one sheet of it, with column names and every row's line as the
user sees it in Excel.

What is refused is refused before it costs anything: the file's size before anything else, a
zip package's uncompressed size from its directory before calamine opens it (``packages``), the
rows and columns while they are read. A file whose content is not what its name says, a
corrupt one and a password-protected one are refused with a message that says so.

A campaign's file may have a million rows: ``open_sheet`` reads it once for its shape (columns,
rows, the first values of each column) and keeps no row; ``Sheet.rows`` reads it again, a row
at a time, for whoever makes something smaller of each.
"""

from __future__ import annotations

import csv
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePath

from ileti.campaigns import packages, workbooks
from ileti.campaigns.cells import EMPTY, Cell, CellMaker, value_cell
from ileti.campaigns.limits import FileLimits, FileRefused, megabytes
from ileti.compliance.contact_files import fold, lines, records

__all__ = [
    "Cell",
    "FileLimits",
    "FileRefused",
    "Row",
    "Sheet",
    "Table",
    "column_names",
    "open_sheet",
    "read_table",
]

# The first non-empty cells of each column that are kept to tell what the column holds.
SAMPLED = 200


@dataclass(frozen=True, slots=True)
class Row:
    """A row with a cell for every column of its table; ``line``: its row number in Excel
    (1-based, the header counted)."""

    line: int
    cells: list[Cell]


@dataclass(frozen=True)
class Sheet:
    """A sheet's shape, from a reading that kept no row: ``count`` rows below the header, and
    for each column its first ``SAMPLED`` non-empty cells."""

    sheet: str | None  # None for a CSV file
    sheets: list[str]
    columns: list[str]
    count: int
    samples: list[list[Cell]] = field(repr=False)
    _again: Callable[[], Iterator[Row]] = field(repr=False)

    def rows(self) -> Iterator[Row]:
        """The rows, read again from the file one at a time, each as wide as the widest."""
        return self._again()


@dataclass(frozen=True)
class Table:
    sheet: str | None  # None for a CSV file
    sheets: list[str]
    columns: list[str]
    rows: list[Row] = field(repr=False)
    samples: list[list[Cell]] = field(repr=False)  # as a ``Sheet``'s


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
    found = open_sheet(
        data, file_name, sheet=sheet, header=header, encoding=encoding, limits=limits
    )
    with _collector_paused():
        rows = list(found.rows())
    return Table(found.sheet, found.sheets, found.columns, rows, found.samples)


def open_sheet(
    data: bytes,
    file_name: str,
    *,
    sheet: str | None = None,
    header: bool = True,
    encoding: str | None = None,
    limits: FileLimits = FileLimits(),
) -> Sheet:
    """As ``read_table``, but the rows are read again when they are asked for, and only then
    (``data`` is kept until the sheet is no longer used)."""
    if len(data) > limits.max_bytes:
        raise FileRefused(
            f"The file is larger than {megabytes(limits.max_bytes)}; split it into smaller files."
        )
    with _collector_paused():
        return _open(data, file_name, sheet, header, encoding, limits)


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


def _open(
    data: bytes,
    file_name: str,
    sheet: str | None,
    header: bool,
    encoding: str | None,
    limits: FileLimits,
) -> Sheet:
    suffix = PurePath(file_name).suffix.lower()
    values: Callable[[], Iterator[Sequence[object]]]
    if suffix in CSV:
        _check_text(data, file_name)
        name, names = None, []

        def values() -> Iterator[Sequence[object]]:
            return _csv_values(data, file_name, encoding)

    elif suffix in WORKBOOKS:
        book = workbooks.open_book(data, file_name, suffix, limits)
        chosen = workbooks.chosen_sheet(book, sheet)
        name, names = chosen.name, book.sheet_names

        def values() -> Iterator[Sequence[object]]:
            return workbooks.values(chosen)

    else:
        kinds = ", ".join(sorted(CSV | WORKBOOKS))
        raise FileRefused(
            f"“{file_name}” cannot be read: upload a file of one of these types: {kinds}."
        )
    shape = _Shape.of(values(), name, header, limits)
    columns = column_names(shape.names or [], shape.width)
    return Sheet(
        name,
        names,
        columns,
        shape.count,
        shape.samples + [[] for _ in range(shape.width - len(shape.samples))],
        lambda: _rows(values(), header, shape.width),
    )


def _check_text(data: bytes, file_name: str) -> None:
    if packages.kind(data) != "other" or b"\0" in data:
        raise FileRefused(
            f"“{file_name}” is named as a text (CSV) file but is not text; give it the name its "
            "content has and upload it again."
        )


def _csv_values(data: bytes, file_name: str, encoding: str | None) -> Iterator[list[str]]:
    try:
        text = lines(data, encoding)
    except LookupError:
        raise FileRefused(f"“{encoding}” is not a character encoding.") from None
    try:
        yield from records(text)
    except UnicodeDecodeError:
        raise FileRefused(f"“{file_name}” is not {encoding} text.") from None
    except csv.Error as error:
        raise FileRefused(f"“{file_name}” is not a readable CSV file ({error}).") from None


@dataclass
class _Shape:
    """What a first reading of a sheet's values finds: the header's names, the widest row,
    how many rows there are below the header, and each column's first non-empty cells."""

    names: list[str] | None = None
    width: int = 0
    count: int = 0
    samples: list[list[Cell]] = field(default_factory=list)

    @classmethod
    def of(
        cls, raw: Iterable[Sequence[object]], sheet: str | None, header: bool, limits: FileLimits
    ) -> _Shape:
        """Refuses a sheet of too many rows or columns, or of none; makes a cell only of a
        header's value and of a value sampled (a million rows are looked at, not kept)."""
        shape = cls()
        cells = CellMaker()
        sampling: list[int] = []  # the columns whose samples are not complete
        for line, values in enumerate(raw, start=1):
            used = _used(values)
            if not used:
                continue
            if used > limits.max_columns:
                raise FileRefused(
                    f"{_where(sheet)} has more than {limits.max_columns} columns (row {line}); "
                    "remove the columns the messages do not need."
                )
            if used > shape.width:
                shape.samples += [[] for _ in range(used - shape.width)]
                sampling += range(shape.width, used)
                shape.width = used
            if header and shape.names is None:
                shape.names = [cell.text for cell in cells.values(values[:used])]
                continue
            if shape.count == limits.max_rows:
                raise FileRefused(
                    f"{_where(sheet)} has more than {limits.max_rows:,} rows; split it into "
                    "smaller files."
                )
            shape.count += 1
            if sampling:
                sampling = shape._sampled(values, used, sampling, cells)
        if not shape.count:
            below = " below its header" if shape.names else ""
            raise FileRefused(f"{_where(sheet)} has no rows{below}.")
        return shape

    def _sampled(
        self, values: Sequence[object], used: int, sampling: list[int], cells: CellMaker
    ) -> list[int]:
        """Samples a row's values; the columns still to sample."""
        for index in sampling:
            if index < used and not _blank(values[index]):
                self.samples[index].append(cells.value(values[index]))
        return [index for index in sampling if len(self.samples[index]) < SAMPLED]


def _rows(raw: Iterable[Sequence[object]], header: bool, width: int) -> Iterator[Row]:
    """The rows below the header, empty ones skipped, each as wide as ``width``."""
    cells = CellMaker()
    named = not header  # whether the header row has gone by
    for line, values in enumerate(raw, start=1):
        if not _used(values):
            continue
        if not named:
            named = True
            continue
        row = cells.values(values)
        if len(row) > width:
            del row[width:]  # empty cells past the widest row's last value
        elif len(row) < width:
            row.extend([EMPTY] * (width - len(row)))
        yield Row(line, row)


def _used(values: Sequence[object]) -> int:
    """How many of a row's values count: up to its last that is not empty."""
    used = len(values)
    while used and _blank(values[used - 1]):
        used -= 1
    return used


def _blank(value: object) -> bool:
    if type(value) is str:
        return not value.strip()
    return not value_cell(value).text


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
