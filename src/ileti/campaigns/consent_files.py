"""A file of İYS consent records (a brand's customer list with how each gave consent), read by
the campaigns' reader and turned into the records the consent service keeps, each with its row.

Columns are found by their headers, in English, in İYS's own names or in Turkish (``Telefon``,
``Durum``, ``Alıcı Tipi``, ``Kaynak``, ``İzin Tarihi``); the phone column as a campaign's is.
Without a status column every row is an ``ONAY``; without a recipient type, ``BIREYSEL``;
without a type, ``MESAJ``. Dates are read as İYS writes them, or as Excel and Turkish files do
(``2024-03-15``, ``15.03.2024 14:30``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ileti.campaigns.columns import phone_column
from ileti.campaigns.sheets import Table
from ileti.compliance.contact_files import fold

# Field → the folded headers that name it.
_HEADERS = {
    "status": {"status", "durum", "izin", "izindurumu", "onaydurumu"},
    "recipient_type": {"recipienttype", "alicitipi", "alicituru", "tip", "musteritipi"},
    "type": {"type", "izintipi", "izinturu", "kanal"},
    "source": {"source", "kaynak", "izinkaynagi"},
    "consent_date": {"consentdate", "date", "tarih", "izintarihi", "onaytarihi"},
}
_DEFAULTS = {"status": "ONAY", "recipient_type": "BIREYSEL", "type": "MESAJ"}
_DAY_FIRST = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class ConsentRow:
    """A record as the consent service takes it (the API's field names), and its row number
    as Excel shows it."""

    line: int
    fields: dict[str, object]


def consent_rows(table: Table, phone: str | None = None) -> list[ConsentRow]:
    """Each row of ``table`` as a record; ``FileRefused`` when no column holds numbers."""
    recipient = phone_column(table, phone)
    folded = [fold(column) for column in table.columns]
    columns = {
        field: next((i for i, name in enumerate(folded) if name in names), None)
        for field, names in _HEADERS.items()
    }
    rows = []
    for row in table.rows:
        fields: dict[str, object] = {"recipient": row.cells[recipient].text}
        for field, index in columns.items():
            text = row.cells[index].text if index is not None else ""
            if field == "consent_date":
                text = _iys_date(text)
            fields[field] = text or _DEFAULTS.get(field, "")
        rows.append(ConsentRow(row.line, fields))
    return rows


def _iys_date(text: str) -> str:
    """A date as İYS reads it (``YYYY-MM-DD HH:mm:ss``) when it is one of the common forms;
    anything else as it is, for İYS's rules to refuse with its row."""
    day_first = _DAY_FIRST.fullmatch(text)
    if day_first:
        day, month, year, hour, minute, second = day_first.groups()
        return (
            f"{year}-{int(month):02d}-{int(day):02d}"
            f" {int(hour or 0):02d}:{minute or '00'}:{second or '00'}"
        )
    if _DATE_ONLY.fullmatch(text):
        return f"{text} 00:00:00"
    return text
