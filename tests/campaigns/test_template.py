"""Message templates: placeholders matched to the file's columns written any way, defaults for
empty cells, literal braces, and the mistakes a user makes, each named."""

from __future__ import annotations

import re
import time

import pytest

from ileti.campaigns.sheets import Cell
from ileti.campaigns.template import EmptyField, Filled, Template, TemplateError

COLUMNS = ["Ad", "Telefon", "isim", "Borç Tutarı", "Şehir"]


def _cells(*texts: str) -> list[Cell]:
    return [Cell(text) for text in texts]


ROW = _cells("Ayşe", "05321234567", "Ayşe Yılmaz", "1.250,00", "İzmir")


def test_placeholders_match_columns_in_any_case_and_turkish_i() -> None:
    template = Template.parse("Sayın {ad} ({İSİM}), {BORÇ TUTARI} TL borcunuz; {şehir}.", COLUMNS)
    assert template.render(ROW) == "Sayın Ayşe (Ayşe Yılmaz), 1.250,00 TL borcunuz; İzmir."
    assert template.placeholders == ["Ad", "isim", "Borç Tutarı", "Şehir"]
    assert template.text == "Sayın {ad} ({İSİM}), {BORÇ TUTARI} TL borcunuz; {şehir}."


def test_a_default_fills_an_empty_cell() -> None:
    template = Template.parse("Merhaba {Ad|Değerli müşterimiz}, {Şehir|}şubemiz açıldı.", COLUMNS)
    assert template.render(_cells("", "0532", "", "", "")) == (
        "Merhaba Değerli müşterimiz, şubemiz açıldı."
    )
    assert template.render(ROW) == "Merhaba Ayşe, İzmirşubemiz açıldı."


def test_an_empty_cell_without_a_default_names_its_column() -> None:
    template = Template.parse("{Ad}, {borç tutarı} TL", COLUMNS)
    with pytest.raises(EmptyField) as empty:
        template.render(_cells("Ali", "0532", "", "", ""))
    assert empty.value.placeholder == "Borç Tutarı"


def test_doubled_braces_are_braces() -> None:
    template = Template.parse("{{kod}}: {Ad}}} {{", COLUMNS)
    assert template.render(ROW) == "{kod}: Ayşe} {"
    assert Template.parse("Sade metin", COLUMNS).render(ROW) == "Sade metin"


def test_an_unknown_placeholder_is_named_with_the_columns_listed() -> None:
    with pytest.raises(TemplateError) as refused:
        Template.parse("Sayın {Adı Soyadı}", COLUMNS)
    assert str(refused.value) == (
        "The template's placeholder {Adı Soyadı} is not a column of the file; the columns are "
        "“Ad”, “Telefon”, “isim”, “Borç Tutarı”, “Şehir”."
    )
    assert refused.value.placeholder == "Adı Soyadı"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Sayın {Ad", "The template has a “{” that is not closed at character 7"),
        ("Sayın {Ad {Şehir}", "The template has a “{” that is not closed at character 7"),
        ("Sayın Ad}", "The template has a “}” without its “{” at character 9"),
        ("Sayın {}", "The template has an empty placeholder “{}”"),
        ("Sayın { |x}", "The template has an empty placeholder “{}”"),
    ],
)
def test_broken_braces_are_refused(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        Template.parse(text, COLUMNS)


def test_a_repeated_column_name_takes_the_first_column() -> None:
    template = Template.parse("{Ad}", ["Ad", "AD 2"])
    assert template.render(_cells("Ali", "Veli")) == "Ali"


def test_the_texts_a_campaign_keeps_read_back_as_rendered() -> None:
    """A campaign keeps each row's values, not its text: what it reads back is the text, literal
    braces, defaults and values that look like placeholders included."""
    template = Template.parse("{{Not}} {Ad|Değerli müşterimiz}: {Şehir} }} {Telefon|}", COLUMNS)
    rows = [ROW, _cells("", "0533", "", "", "{0} {Ad} }"), _cells("Ali", "", "", "", "Van")]
    kept = Filled(template)
    for row in rows:
        kept.append(template.values(row))
    assert list(kept) == [template.render(row) for row in rows]
    assert kept[1] == "{Not} Değerli müşterimiz: {0} {Ad} } } 0533"
    assert kept[-1] == "{Not} Ali: Van } "
    assert kept[0:2] == [template.render(ROW), kept[1]]


def test_a_million_rows_render_quickly() -> None:
    template = Template.parse(
        "Sayın {Ad|Müşterimiz}, {Borç Tutarı} TL borcunuz ({Şehir}).", COLUMNS
    )
    rows = [ROW] * 1_000_000
    began = time.perf_counter()
    texts = [template.render(row) for row in rows]
    elapsed = time.perf_counter() - began
    assert texts[-1] == "Sayın Ayşe, 1.250,00 TL borcunuz (İzmir)."
    # About half a second on a laptop; generous for a loaded test machine.
    assert elapsed < 5
