"""Customer files read as tables: CSV in the encodings and separators Excel writes, xlsx and ods
workbooks with their numbers, dates, formulas and sheets, and every kind of file refused with a
message that says why, before it costs time or memory."""

from __future__ import annotations

import io
import re
import struct
import time
import tracemalloc
import zipfile

import pytest

from campaigns.workbooks import Date, Formula, ods, xlsx
from ileti.campaigns.sheets import Cell, FileLimits, FileRefused, Table, read_table
from ileti.config import Settings


def _texts(table: Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def _lines(table: Table) -> list[int]:
    return [row.line for row in table.rows]


# CSV


def test_a_windows_1254_csv_keeps_its_turkish_letters() -> None:
    data = "İsim;Soyadı;Telefon\r\nŞükrü;Işık;0532 123 45 67\r\nÇağla;Öğüt;0533 765 43 21\r\n"
    table = read_table(data.encode("cp1254"), "müşteriler.csv")
    assert table.columns == ["İsim", "Soyadı", "Telefon"]
    assert _texts(table) == [
        ["Şükrü", "Işık", "0532 123 45 67"],
        ["Çağla", "Öğüt", "0533 765 43 21"],
    ]
    assert table.sheet is None and table.sheets == []


def test_a_utf8_csv_with_a_bom_commas_and_quoted_fields() -> None:
    data = (
        "\ufeffAd,Telefon,Not\n"
        'Ayşe,905321234567,"Sokak 5, Daire 3"\n'
        '"Ali ""Usta""",05331234567,"iki\nsatır"\n'
        "\n"
        "Veli,+90 534 123 45 67,\n"
    ).encode()
    table = read_table(data, "liste.csv")
    assert table.columns == ["Ad", "Telefon", "Not"]
    assert _texts(table) == [
        ["Ayşe", "905321234567", "Sokak 5, Daire 3"],
        ['Ali "Usta"', "05331234567", "iki\nsatır"],
        ["Veli", "+90 534 123 45 67", ""],
    ]
    # A quoted line break stays inside its row; a blank row is skipped but counted.
    assert _lines(table) == [2, 3, 5]


def test_semicolons_win_over_decimal_commas_and_tabs_are_found() -> None:
    semicolons = "Ad;Tutar;GSM\nAli;12,50;05321234567\nVeli;7,25;05331234567\n"
    assert _texts(read_table(semicolons.encode(), "a.csv")) == [
        ["Ali", "12,50", "05321234567"],
        ["Veli", "7,25", "05331234567"],
    ]
    tabs = "Ad\tTutar\tGSM\nAli\t1,5\t05321234567\n"
    assert _texts(read_table(tabs.encode(), "a.txt")) == [["Ali", "1,5", "05321234567"]]


def test_a_csv_mixing_encodings_is_read_as_windows_1254_as_a_whole() -> None:
    # A UTF-8 line and a Windows-1254 line: not valid UTF-8, so the file is Windows-1254, and
    # the UTF-8 line shows its letters as pairs of odd ones, for the user to see and fix.
    data = b"Ad;GSM\n" + "Şükrü;05321234567\n".encode() + "Işık;05331234567\n".encode("cp1254")
    table = read_table(data, "karışık.csv")
    assert _texts(table) == [
        ["Şükrü".encode().decode("cp1254", errors="replace"), "05321234567"],
        ["Işık", "05331234567"],
    ]


def test_a_named_encoding_is_used_and_a_wrong_one_refused() -> None:
    data = "Ad;GSM\nŞükrü;05321234567\n".encode("iso-8859-9")
    assert _texts(read_table(data, "a.csv", encoding="iso-8859-9")) == [["Şükrü", "05321234567"]]
    assert _texts(read_table("Ad\nİpek\n".encode(), "a.csv", encoding="UTF-8")) == [["İpek"]]
    with pytest.raises(FileRefused, match=re.escape("“klingon” is not a character encoding")):
        read_table(data, "a.csv", encoding="klingon")
    with pytest.raises(FileRefused, match=re.escape("“a.csv” is not utf-8 text")):
        read_table(data, "a.csv", encoding="utf-8")


def test_a_number_excel_showed_in_scientific_notation_is_damaged() -> None:
    data = "Ad;GSM\nAli;5,32123E+09\nVeli;9.05321E+11\nAyşe;05321234567\n"
    table = read_table(data.encode(), "a.csv")
    assert [row.cells[1] for row in table.rows] == [
        Cell("5,32123E+09", damaged=True),
        Cell("9.05321E+11", damaged=True),
        Cell("05321234567"),
    ]


def test_without_a_header_the_columns_are_numbered() -> None:
    table = read_table(b"05321234567;Ali\n05331234567;Veli;Bey\n", "a.csv", header=False)
    assert table.columns == ["Column 1", "Column 2", "Column 3"]
    assert _lines(table) == [1, 2]
    # Every row has a cell for every column.
    assert _texts(table) == [["05321234567", "Ali", ""], ["05331234567", "Veli", "Bey"]]


def test_empty_and_repeated_header_names_are_made_unique() -> None:
    table = read_table(b"Ad;;ad;AD;Column 2;\nA;B;C;D;E;F\n", "a.csv")
    assert table.columns == ["Ad", "Column 2", "ad 2", "AD 3", "Column 2 2", "Column 6"]


def test_an_empty_file_and_a_header_alone_are_refused() -> None:
    with pytest.raises(FileRefused, match=re.escape("The file has no rows.")):
        read_table(b"\r\n;;\r\n", "a.csv")
    with pytest.raises(FileRefused, match=re.escape("The file has no rows below its header.")):
        read_table(b"Ad;GSM\n", "a.csv")


def test_a_csv_of_more_than_a_million_rows_is_refused() -> None:
    rows = b"Ad;GSM\n" + b"Ali;05321234567\n" * 1_000_001
    with pytest.raises(FileRefused, match=re.escape("more than 1,000,000 rows")):
        read_table(rows, "büyük.csv")


def test_the_row_limit_counts_the_rows_below_the_header() -> None:
    limits = FileLimits(max_rows=2)
    table = read_table(b"GSM\n1\n2\n", "a.csv", limits=limits)
    assert _texts(table) == [["1"], ["2"]]
    with pytest.raises(FileRefused, match=re.escape("more than 2 rows")):
        read_table(b"GSM\n1\n2\n3\n", "a.csv", limits=limits)


def test_more_than_200_columns_are_refused() -> None:
    wide = ";".join(f"c{n}" for n in range(200)).encode()
    assert len(read_table(wide + b"\n" + wide, "a.csv").columns) == 200
    wider = wide + b";c200"
    with pytest.raises(FileRefused, match=re.escape("more than 200 columns (row 1)")):
        read_table(wider + b"\n" + wider, "a.csv")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(FileRefused, match=re.escape("larger than 100 bytes")):
        read_table(b"x" * 200, "a.xlsx", limits=FileLimits(max_bytes=100))


def test_files_that_are_not_what_their_names_say_are_refused() -> None:
    workbook = xlsx(("S", [["GSM"], ["05321234567"]]))
    with pytest.raises(
        FileRefused, match=re.escape("“a.csv” is named as a text (CSV) file but is not text")
    ):
        read_table(workbook, "a.csv")
    with pytest.raises(FileRefused, match=re.escape("not text")):
        read_table(b"%PDF-1.7\n1 0 obj\n", "fatura.csv")
    with pytest.raises(
        FileRefused, match=re.escape("“a.xlsx” is named .xlsx but is a text (CSV) file")
    ):
        read_table(b"Ad;GSM\nAli;05321234567\n", "a.xlsx")
    with pytest.raises(FileRefused, match=re.escape("is named .xlsx but is a PDF document")):
        read_table(b"%PDF-1.7\n", "a.xlsx")
    with pytest.raises(FileRefused, match=re.escape("is named .ods but is an Excel workbook")):
        read_table(workbook, "a.ods")
    with pytest.raises(FileRefused, match=re.escape("is named .xls but is a zip archive")):
        read_table(workbook, "a.xls")
    with pytest.raises(
        FileRefused, match=re.escape("is named .xlsx but is an Excel 97-2003 workbook")
    ):
        read_table(_ole(b"Workbook"), "a.xlsx")
    with pytest.raises(
        FileRefused, match=re.escape("upload a file of one of these types: .csv, .ods")
    ):
        read_table(b"hello", "mektup.docx")


def _ole(stream: bytes) -> bytes:
    """The start of an OLE container (what .xls files and encrypted Office files are) naming a
    stream in its directory."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + stream.decode().encode("utf-16-le")


def test_a_password_protected_workbook_is_refused() -> None:
    with pytest.raises(FileRefused, match=re.escape("“gizli.xlsx” is protected with a password")):
        read_table(_ole(b"EncryptedPackage") + b"\0" * 1024, "gizli.xlsx")


def test_corrupt_workbooks_are_refused() -> None:
    workbook = xlsx(("S", [["GSM"], ["05321234567"]]))
    for data, name in (
        (workbook[: len(workbook) // 2], "yarım.xlsx"),
        (_ole(b"Workbook") + b"\x07" * 4096, "bozuk.xls"),
        (b"\x89PNG\r\n\x1a\n\0\0", "resim.xlsx"),
    ):
        with pytest.raises(FileRefused, match=re.escape(f"“{name}” is damaged and cannot be read")):
            read_table(data, name)


def test_a_zip_of_something_else_is_not_a_workbook() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("readme.txt", "hello")
    with pytest.raises(
        FileRefused, match=re.escape("is named .xlsx but is a zip archive, not a workbook")
    ):
        read_table(out.getvalue(), "a.xlsx")


# Zip bombs


def _bomb(size: int) -> bytes:
    """An xlsx whose sheet expands to ``size`` bytes of spaces, written in steps."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        package.writestr("xl/workbook.xml", "<workbook/>")
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b" " * (1 << 20)
            for _ in range(size >> 20):
                member.write(chunk)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _bomb(600 << 20)


def _measured(data: bytes, name: str) -> tuple[str, float, int]:
    tracemalloc.start()
    began = time.perf_counter()
    with pytest.raises(FileRefused) as refused:
        read_table(data, name)
    elapsed = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return str(refused.value), elapsed, peak


def test_a_zip_bomb_is_refused_from_its_directory_fast_and_in_little_memory(bomb: bytes) -> None:
    assert len(bomb) < 2 << 20
    message, elapsed, peak = _measured(bomb, "bomba.xlsx")
    assert message == (
        "“bomba.xlsx” expands to more than 500 MB when opened; split it into smaller files."
    )
    assert elapsed < 0.5 and peak < 8 << 20


def _understated(data: bytes, member: str, declared: int) -> bytes:
    """A zip whose directory (and local header) says ``member`` expands to ``declared`` bytes."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    patched = bytearray(data)
    struct.pack_into("<I", patched, info.header_offset + 22, declared)
    entry = patched.find(b"PK\x01\x02")
    while patched[entry + 46 : entry + 46 + len(member)] != member.encode():
        entry = patched.find(b"PK\x01\x02", entry + 1)
    struct.pack_into("<I", patched, entry + 24, declared)
    return bytes(patched)


def test_a_zip_whose_directory_understates_a_member_is_refused_early() -> None:
    rows = [["GSM"]] + [["05321234567"]] * 200_000
    honest = xlsx(("S", rows))
    lying = _understated(honest, "xl/worksheets/sheet1.xml", 1000)
    message, _, peak = _measured(lying, "yalancı.xlsx")
    assert message == (
        "“yalancı.xlsx” holds more than its directory declares when opened; it is refused as a "
        "possible zip bomb."
    )
    assert peak < 8 << 20


def test_a_member_expanding_more_than_a_hundredfold_at_size_is_refused() -> None:
    assert _measured(_bomb(20 << 20), "b.xlsx")[0] == (
        "“b.xlsx” expands far more than a workbook does when opened; it is refused as a "
        "possible zip bomb."
    )


# Workbooks


def test_an_xlsx_gives_every_digit_of_its_numbers_and_flags_the_damaged_ones() -> None:
    rows = [
        ["Ad", "Telefon", "Tutar", "Tarih", "Saat"],
        ["Ayşe", 905321234567.0, 1250.5, Date(45366), Date(45366.75)],
        ["Ali", 5.32123e9, 12, None, None],
        ["Can", 905321234567.25, 0.1, None, None],
        ["Ece", 5321234567, -3.0, None, None],
    ]
    table = read_table(xlsx(("Müşteriler", rows)), "m.xlsx")
    assert [row.cells[1] for row in table.rows] == [
        Cell("905321234567"),
        Cell("5321230000", damaged=True),
        Cell("905321234567.25", damaged=True),
        Cell("5321234567"),
    ]
    assert [row.cells[2].text for row in table.rows] == ["1250.5", "12", "0.1", "-3"]
    assert [row.cells[3].text for row in table.rows][:1] == ["2024-03-15"]
    assert table.rows[0].cells[4].text == "2024-03-15 18:00:00"


def test_a_formula_cell_gives_its_cached_value() -> None:
    rows = [
        ["Ad", "GSM", "Borç"],
        ["Ali", Formula('"0532"&"1234567"', "05321234567"), Formula("B1*2", 300.0)],
    ]
    table = read_table(xlsx(("S", rows)), "f.xlsx")
    assert _texts(table) == [["Ali", "05321234567", "300"]]


def test_the_first_sheet_with_data_is_read_unless_one_is_named() -> None:
    data = xlsx(
        ("Kapak", []),
        ("Liste", [["Ad", "GSM"], ["Ali", "05321234567"]]),
        ("Eski", [["GSM"], ["05331234567"], ["05341234567"]]),
    )
    first = read_table(data, "s.xlsx")
    assert (first.sheet, first.sheets) == ("Liste", ["Kapak", "Liste", "Eski"])
    assert _texts(first) == [["Ali", "05321234567"]]
    named = read_table(data, "s.xlsx", sheet="Eski")
    assert (named.sheet, _texts(named)) == ("Eski", [["05331234567"], ["05341234567"]])
    with pytest.raises(FileRefused, match=re.escape("The sheet “Kapak” has no rows.")):
        read_table(data, "s.xlsx", sheet="Kapak")
    with pytest.raises(
        FileRefused,
        match=re.escape("The file has no sheet “Yeni”; its sheets are “Kapak”, “Liste”, “Eski”."),
    ):
        read_table(data, "s.xlsx", sheet="Yeni")


def test_rows_keep_their_excel_row_numbers_and_merged_header_cells_get_names() -> None:
    rows = [
        [],
        ["Ad Soyad", None, "GSM"],
        ["Ali", "Veli", 5321234567],
        [],
        ["Ece", "Can", 5331234567],
    ]
    table = read_table(xlsx(("S", rows), merged=["A2:B2"]), "m.xlsx")
    assert table.columns == ["Ad Soyad", "Column 2", "GSM"]
    assert _lines(table) == [3, 5]
    assert _texts(table)[1] == ["Ece", "Can", "5331234567"]


def test_columns_start_where_the_data_does() -> None:
    rows = [[None, None], [None, "Ad", "GSM"], [None, "Ali", "05321234567"]]
    table = read_table(xlsx(("S", rows)), "a.xlsx", header=False)
    assert table.columns == ["Column 1", "Column 2"]
    assert _texts(table) == [["Ad", "GSM"], ["Ali", "05321234567"]]
    assert _lines(table) == [2, 3]


def test_an_ods_is_read_like_an_xlsx() -> None:
    data = ods(("Liste", [["Ad", "GSM"], ["Ayşe", 905321234567], ["Ali", 5.32123e9]]))
    table = read_table(data, "liste.ods")
    assert (table.sheet, table.columns) == ("Liste", ["Ad", "GSM"])
    assert [row.cells for row in table.rows] == [
        [Cell("Ayşe"), Cell("905321234567")],
        [Cell("Ali"), Cell("5321230000", damaged=True)],
    ]


def test_the_workbook_limits_are_those_of_a_csv() -> None:
    rows = [["GSM"]] + [[f"0532123{n:04d}"] for n in range(5)]
    with pytest.raises(FileRefused, match=re.escape("The sheet “S” has more than 4 rows")):
        read_table(xlsx(("S", rows)), "a.xlsx", limits=FileLimits(max_rows=4))
    with pytest.raises(FileRefused, match=re.escape("The sheet “S” has more than 200 columns")):
        read_table(xlsx(("S", [list(range(201))])), "a.xlsx")


def test_the_limits_are_the_installations_settings() -> None:
    settings = Settings(campaign_max_rows=3, campaign_max_columns=2, campaign_max_bytes=1000)
    limits = FileLimits.from_settings(settings)
    assert (limits.max_rows, limits.max_columns, limits.max_bytes) == (3, 2, 1000)
    with pytest.raises(FileRefused, match=re.escape("The file has more than 2 columns (row 1)")):
        read_table(b"a;b;c\n1;2;3\n", "a.csv", limits=limits)
