"""The phone column of a customer file: named by the user, else found by its header written any
way, else by its values; and the folding that compares names written any way."""

from __future__ import annotations

import re

import pytest

from ileti.campaigns.columns import fold, phone_column
from ileti.campaigns.sheets import FileRefused, read_table


def _column(csv: str, named: str | None = None, *, header: bool = True) -> str:
    table = read_table(csv.encode(), "a.csv", header=header)
    return table.columns[phone_column(table, named)]


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("İSİM", "isim"),
        ("isim", "isim"),
        ("Işık", "isik"),
        ("IŞIK", "isik"),
        ("Cep Telefonu", "ceptelefonu"),
        ("GSM_No.", "gsmno"),
        ("ŞĞÜÖÇ şğüöç", "sguocsguoc"),
        ("Kâr (TL)", "kartl"),
    ],
)
def test_names_are_folded(written: str, folded: str) -> None:
    assert fold(written) == folded


@pytest.mark.parametrize(
    "header",
    [
        "Telefon",
        "TEL",
        "Tel No",
        "Cep Telefonu",
        "CEP",
        "GSM Numarası",
        "numara",
        "Phone Number",
        "Mobile",
        "MSISDN",
        "Telefon No",
    ],
)
def test_the_phone_column_is_found_by_its_header(header: str) -> None:
    # The values say nothing here (they are not phone numbers): the header decides.
    assert _column(f"Ad;{header};Şehir\nAli;x;Van\n") == header


def test_of_two_phone_headers_the_one_holding_numbers_wins() -> None:
    csv = "Tel;Ad;GSM\n;Ali;0532 123 45 67\nyok;Veli;+90 (533) 123-45-67\n"
    assert _column(csv) == "GSM"


def test_without_a_telling_header_the_values_decide() -> None:
    csv = "Ad;İletişim;Kod\nAli;0532 123 45 67;12345678\nVeli;905331234567;23456789\nCan;;1\n"
    assert _column(csv) == "İletişim"
    assert _column("Ali;05321234567\nVeli;+90 533 123 45 67\n", header=False) == "Column 2"


def test_damaged_numbers_still_mark_their_column() -> None:
    assert _column("Ad;Kişi\nAli;5,32123E+09\nVeli;5321234567\n") == "Kişi"


def test_a_named_column_wins_and_is_matched_folded() -> None:
    csv = "Telefon;İLETİŞİM\n05321234567;05331234567\n"
    assert _column(csv, "iletişim") == "İLETİŞİM"
    assert _column(csv, "TELEFON") == "Telefon"


def test_an_unknown_named_column_is_refused_with_the_columns_listed() -> None:
    with pytest.raises(
        FileRefused, match=re.escape("There is no column “Cep”; the columns are “Ad”, “Telefon”.")
    ):
        _column("Ad;Telefon\nAli;05321234567\n", "Cep")


def test_a_file_without_phone_numbers_is_refused() -> None:
    with pytest.raises(
        FileRefused,
        match=re.escape(
            "No column holds phone numbers; name the phone column (the columns are “Ad”, “Şehir”)."
        ),
    ):
        _column("Ad;Şehir\nAli;Van\nVeli;12345\n")
