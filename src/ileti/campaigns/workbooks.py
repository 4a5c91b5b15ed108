"""Excel and LibreOffice workbooks (``.xlsx``, ``.xls``, ``.ods``) read with calamine, which
gives a formula cell's value as the file last computed it."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

from python_calamine import CalamineError, CalamineSheet, CalamineWorkbook

from ileti.campaigns import packages
from ileti.campaigns.limits import FileLimits, FileRefused

_XLSX = {".xlsx", ".xlsm"}
_ODS_TYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def open_book(data: bytes, file_name: str, suffix: str, limits: FileLimits) -> CalamineWorkbook:
    """The workbook of a file whose content is what its name says and within the limits."""
    found = packages.kind(data)
    if found == "encrypted":
        raise FileRefused(
            f"“{file_name}” is protected with a password; save it without one and upload it again."
        )
    expected = "ole" if suffix == ".xls" else "zip"
    if found != expected:
        raise _misnamed(file_name, suffix, found, data)
    if found == "zip":
        package = packages.check_zip(data, file_name, limits)
        names = set(package.namelist())
        is_ods = "mimetype" in names and package.read("mimetype").strip() == _ODS_TYPE
        is_xlsx = "xl/workbook.xml" in names
        if (suffix == ".ods" and not is_ods) or (suffix in _XLSX and not is_xlsx):
            raise _misnamed(
                file_name, suffix, "xlsx" if is_xlsx else "ods" if is_ods else "zip", data
            )
    try:
        return CalamineWorkbook.from_object(io.BytesIO(data))
    except CalamineError as error:
        if "password" in str(error).lower():
            raise FileRefused(
                f"“{file_name}” is protected with a password; save it without one and upload "
                "it again."
            ) from None
        raise packages.corrupt(file_name) from None


def chosen_sheet(book: CalamineWorkbook, sheet: str | None) -> CalamineSheet:
    """The sheet asked for by name, else the first that holds a value (calamine reads a sheet
    whole each time it is asked for one: it is asked once)."""
    names = book.sheet_names
    if not names:
        raise FileRefused("The file has no sheets.")
    if sheet is not None:
        if sheet not in names:
            listed = ", ".join(f"“{name}”" for name in names)
            raise FileRefused(f"The file has no sheet “{sheet}”; its sheets are {listed}.")
        return _sheet(book, sheet)
    for name in names:
        found = _sheet(book, name)
        if found.height:
            return found
    return found


def values(sheet: CalamineSheet) -> Iterator[Sequence[object]]:
    """Every row's values as calamine gives them, from the sheet's first row (so that a row's
    place is its Excel row number), its columns from the first that holds a value."""
    try:
        yield from sheet.iter_rows()
    except CalamineError:
        raise FileRefused(f"The sheet “{sheet.name}” is damaged and cannot be read.") from None


def _sheet(book: CalamineWorkbook, name: str) -> CalamineSheet:
    try:
        return book.get_sheet_by_name(name)
    except CalamineError:
        raise FileRefused(f"The sheet “{name}” is damaged and cannot be read.") from None


def _misnamed(file_name: str, suffix: str, found: str, data: bytes) -> FileRefused:
    what = {
        "ole": "an Excel 97-2003 workbook (.xls)",
        "zip": "a zip archive, not a workbook",
        "xlsx": "an Excel workbook (.xlsx)",
        "ods": "a LibreOffice workbook (.ods)",
        "pdf": "a PDF document",
    }.get(found)
    if what is None and _looks_like_text(data):
        what = "a text (CSV) file"
    if what is None:
        return packages.corrupt(file_name)
    return FileRefused(
        f"“{file_name}” is named {suffix} but is {what}; give it the name its content has "
        "and upload it again."
    )


def _looks_like_text(data: bytes) -> bool:
    return b"\0" not in data[:4096]
