"""Numbers as people bring them: typed or pasted into a form, or a spreadsheet saved as CSV.

Typed: one a line, or separated by commas or semicolons; the spaces inside a number belong
to it (``0532 555 12 34``). A CSV file: UTF-8 (with or without the BOM Excel writes), else
Windows-1254 (what Excel saves in Turkish Windows); ``;`` or ``,`` as its separator, whichever
its first line uses; a header naming the phone column (and, if it has them, the name columns),
or no header and a number first on every line.
"""

from __future__ import annotations

import csv
import re

from ileti.codes import GatewayError
from ileti.compliance.contacts import ContactLine
from ileti.validation import invalid

_SEPARATORS = re.compile(r"[,;]")
_PHONE = {
    "telefon",
    "tel",
    "gsm",
    "cep",
    "ceptelefonu",
    "telefonnumarasi",
    "numara",
    "phone",
    "phonenumber",
    "mobile",
    "number",
    "msisdn",
}
_FIRST = {"ad", "adi", "isim", "name", "firstname", "first"}
_LAST = {"soyad", "soyadi", "lastname", "surname", "last"}
# One column with the whole name: its last word is the last name.
_FULL = {"adsoyad", "adisoyadi", "fullname", "adsoyadi"}
_HEADER_WORD = re.compile(r"[\s_.\-]+")


def typed(text: str) -> list[ContactLine]:
    """The numbers of a form's text, each with its line."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for entry in _SEPARATORS.split(line):
            if entry.strip():
                found.append(ContactLine(number, entry.strip()))
    return found


def decoded(data: bytes) -> str:
    """A file's text: UTF-8 (a BOM dropped) when it is that, else Windows-1254."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1254", errors="replace")


def from_csv(data: bytes) -> list[ContactLine]:
    """The numbers (and names) of a CSV file, each with its line; TS-1035 for a file with a
    header but no phone column."""
    lines = decoded(data).splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = [(n, row) for n, row in enumerate(csv.reader(lines, delimiter=delimiter), start=1)]
    rows = [(n, [cell.strip() for cell in row]) for n, row in rows if any(c.strip() for c in row)]
    if not rows:
        raise invalid("file", "holds no number")
    phone, first_name, last_name, full_name = 0, None, None, None
    header = rows[0][1]
    if not any(char.isdigit() for cell in header for char in cell):
        names = [_header(cell) for cell in header]
        phones = [i for i, name in enumerate(names) if name in _PHONE]
        if not phones:
            raise _no_phone_column()
        phone = phones[0]
        first_name = next((i for i, name in enumerate(names) if name in _FIRST), None)
        last_name = next((i for i, name in enumerate(names) if name in _LAST), None)
        full_name = next((i for i, name in enumerate(names) if name in _FULL), None)
        rows = rows[1:]
    found = []
    for number, row in rows:
        first, last = _cell(row, first_name), _cell(row, last_name)
        if full_name is not None and not (first or last):
            first, _, last = _cell(row, full_name).rpartition(" ")
            if not first:
                first, last = last, ""
        found.append(ContactLine(number, _cell(row, phone), first.strip(), last.strip()))
    return found


def _header(cell: str) -> str:
    """A header's name compared as written any way: case, Turkish dotted and dotless i,
    spaces and underscores do not matter."""
    lowered = cell.replace("İ", "i").replace("I", "ı").lower().replace("ı", "i")
    return _HEADER_WORD.sub("", lowered)


def _cell(row: list[str], column: int | None) -> str:
    return row[column] if column is not None and column < len(row) else ""


def _no_phone_column() -> GatewayError:
    return invalid(
        "file",
        "has a header without a phone column (name it telefon, gsm, cep, numara, phone or mobile)",
    )
