# ruff: noqa: E501  (the XML parts are written one element a line, as Excel writes them)
"""Spreadsheet files written by hand, as Excel and LibreOffice save them, for the readers' tests
and the reading bench: an xlsx or ods is a zip of XML, so no spreadsheet library is needed.

A cell is a ``str`` (a text cell), an ``int`` or ``float`` (a number cell), ``None`` (no cell),
or a ``Formula`` (a formula with the value Excel cached when it last computed it).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Formula:
    formula: str
    cached: float | str


@dataclass(frozen=True)
class Date:
    """A date as Excel keeps it: a serial number of days with a date format."""

    serial: float


Value = str | int | float | Formula | Date | None
Sheet = tuple[str, Iterable[Sequence[Value]]]

_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
{sheets}</Types>"""
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\n'
)
_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets>{sheets}</sheets></workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
{sheets}<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""
# Style 0: general; style 1: a date (built-in number format 14).
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders>
<cellStyleXfs count="1"><xf/></cellStyleXfs>
<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs>
</styleSheet>"""
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _cell(ref: str, value: Value) -> str:
    if isinstance(value, Formula):
        if isinstance(value.cached, str):
            cached = f"<v>{escape(value.cached)}</v>"
            return f'<c r="{ref}" t="str"><f>{escape(value.formula)}</f>{cached}</c>'
        return f'<c r="{ref}"><f>{escape(value.formula)}</f><v>{value.cached!r}</v></c>'
    if isinstance(value, Date):
        return f'<c r="{ref}" s="1"><v>{value.serial!r}</v></c>'
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    return f'<c r="{ref}"><v>{value!r}</v></c>'


def _sheet_xml(rows: Iterable[Sequence[Value]], merged: Sequence[str] = ()) -> Iterable[str]:
    yield _SHEET_HEAD
    for number, row in enumerate(rows, start=1):
        cells = "".join(
            _cell(f"{_column(i)}{number}", value)
            for i, value in enumerate(row)
            if value is not None
        )
        yield f'<row r="{number}">{cells}</row>'
    yield "</sheetData>"
    if merged:
        refs = "".join(f'<mergeCell ref="{ref}"/>' for ref in merged)
        yield f'<mergeCells count="{len(merged)}">{refs}</mergeCells>'
    yield "</worksheet>"


def xlsx(*sheets: Sheet, merged: Sequence[str] = ()) -> bytes:
    """An xlsx workbook of the sheets, in order; ``merged`` ranges (``A1:B1``) on the first."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        n = range(1, len(sheets) + 1)
        package.writestr(
            "[Content_Types].xml", _TYPES.format(sheets="".join(_SHEET_TYPE.format(n=i) for i in n))
        )
        package.writestr("_rels/.rels", _ROOT_RELS)
        package.writestr(
            "xl/workbook.xml",
            _WORKBOOK.format(
                sheets="".join(
                    f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
                    for i, (name, _) in zip(n, sheets, strict=True)
                )
            ),
        )
        package.writestr(
            "xl/_rels/workbook.xml.rels",
            _WORKBOOK_RELS.format(
                sheets="".join(
                    f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/'
                    f'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
                    for i in n
                )
            ),
        )
        package.writestr("xl/styles.xml", _STYLES)
        for i, (_, rows) in zip(n, sheets, strict=True):
            with package.open(f"xl/worksheets/sheet{i}.xml", "w") as member:
                for part in _sheet_xml(rows, merged if i == 1 else ()):
                    member.write(part.encode())
    return out.getvalue()


_ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
    "</office:document-content>"
)
_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _ods_cell(value: Value) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, str):
        return f'<table:table-cell office:value-type="string"><text:p>{escape(value)}</text:p></table:table-cell>'
    assert isinstance(value, int | float), value
    return f'<table:table-cell office:value-type="float" office:value="{value!r}"><text:p>{value}</text:p></table:table-cell>'


def ods(*sheets: Sheet) -> bytes:
    """An OpenDocument spreadsheet (LibreOffice's own format) of text and number cells."""
    tables = "".join(
        f'<table:table table:name="{escape(name)}">'
        + "".join(
            "<table:table-row>" + "".join(_ods_cell(value) for value in row) + "</table:table-row>"
            for row in rows
        )
        + "</table:table>"
        for name, rows in sheets
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        package.writestr("content.xml", _ODS_CONTENT.format(tables=tables))
        package.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
    return out.getvalue()
