"""Numbers as people bring them: typed or pasted into a form, or a spreadsheet saved as CSV.

Typed: one a line, or separated by commas or semicolons; the spaces inside a number belong
to it (``0532 555 12 34``). A CSV file: UTF-8 (with or without the BOM Excel writes), else
Windows-1254 (what Excel saves in Turkish Windows); ``;``, ``,`` or a tab as its separator,
whichever splits its first lines alike; a header naming the phone column (and, if it has them,
the name columns), or no header and a number first on every line.

This is the one CSV reader of the gateway: the campaigns' file reader decodes and splits CSV
files with ``decoded`` and ``records`` too, and compares column names with ``fold``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from itertools import chain, islice

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


def typed(text: str) -> list[ContactLine]:
    """The numbers of a form's text, each with its line."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for entry in _SEPARATORS.split(line):
            if entry.strip():
                found.append(ContactLine(number, entry.strip()))
    return found


def lines(data: bytes, encoding: str | None = None) -> io.TextIOWrapper:
    """A file's text line by line, decoded as it is read (a million-row file is never held
    as one string): in ``encoding`` when one is named, else UTF-8 (a BOM dropped) when the
    whole file is that, else Windows-1254. Never a statistical guess: detectors take short
    Turkish files for Windows-1252 and turn ``İsim`` into ``Ýsim``. A file mixing UTF-8 lines
    with Windows-1254 bytes is not UTF-8, so it is read as Windows-1254 as a whole (its UTF-8
    letters come out as two odd letters each, which the user sees in the preview, rather than
    as dropped bytes). ``LookupError`` for an unknown encoding; reading text that is not in
    the named one raises ``UnicodeDecodeError``."""
    if encoding is not None:
        named = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
        return io.TextIOWrapper(io.BytesIO(data), encoding=named, newline="")
    if _is_utf8(data):
        return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    return io.TextIOWrapper(io.BytesIO(data), encoding="cp1254", errors="replace", newline="")


_STEP = 1 << 20


def _is_utf8(data: bytes) -> bool:
    """Whether the bytes are UTF-8, checked a megabyte at a time without keeping the text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), _STEP):
            decoder.decode(view[start : start + _STEP])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


_DELIMITERS = (";", ",", "\t")
_SNIFFED_LINES = 20


def delimiter(sample: list[str]) -> str:
    """The separator of a CSV file's first lines: of ``;``, ``,`` and tab, the one that splits
    the most of them into the same number of fields (more than one), quotes respected; ``,``
    when none splits them."""
    best, best_score = ",", (0, 0)
    for candidate in _DELIMITERS:
        counts = [len(row) for row in csv.reader(sample, delimiter=candidate) if row]
        if not counts:
            continue
        usual = max(set(counts), key=counts.count)
        score = (counts.count(usual), usual) if usual > 1 else (0, 0)
        if score > best_score:
            best, best_score = candidate, score
    return best


def records(text: Iterable[str]) -> Iterator[list[str]]:
    """The records of a CSV text's lines, one a row as a spreadsheet shows them (a quoted field
    may hold line breaks), its separator sniffed from its first lines; a blank line is an empty
    record."""
    rest = iter(text)
    head = list(islice(rest, _SNIFFED_LINES))
    return csv.reader(chain(head, rest), delimiter=delimiter(head))


def fold(name: str) -> str:
    """A name as compared written any way: case, Turkish dotted and dotless i and the other
    Turkish letters (``ş ğ ü ö ç``, and ``â î û``) folded, spaces and punctuation dropped, so
    ``İSİM`` is ``isim`` and ``Cep Telefonu`` is ``ceptelefonu``."""
    bare = unicodedata.normalize("NFKD", name.replace("ı", "i"))
    return "".join(char for char in bare.casefold() if char.isalnum())


def from_csv(data: bytes) -> list[ContactLine]:
    """The numbers (and names) of a CSV file, each with its line; TS-1035 for a file with a
    header but no phone column."""
    rows = list(enumerate(records(lines(data)), start=1))
    rows = [(n, [cell.strip() for cell in row]) for n, row in rows if any(c.strip() for c in row)]
    if not rows:
        raise invalid("file", "holds no number")
    phone, first_name, last_name, full_name = 0, None, None, None
    header = rows[0][1]
    if not any(char.isdigit() for cell in header for char in cell):
        names = [fold(cell) for cell in header]
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


def _cell(row: list[str], column: int | None) -> str:
    return row[column] if column is not None and column < len(row) else ""


def _no_phone_column() -> GatewayError:
    return invalid(
        "file",
        "has a header without a phone column (name it telefon, gsm, cep, numara, phone or mobile)",
    )
