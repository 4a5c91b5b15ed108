"""Every text the panel shows in English has its Turkish: a page never mixes the languages."""

from __future__ import annotations

import re
from pathlib import Path

from ileti.web.i18n import Translator, catalogue, choose

WEB = Path(__file__).resolve().parents[2] / "src" / "ileti" / "web"
# _("…") in templates, t.text("…") and _("…") in Python; one string literal, either quote.
CALL = re.compile(r"""(?:\b_|\.text)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*[,)]""")


def _texts() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted([*WEB.rglob("*.html"), *WEB.rglob("*.py")]):
        if "locales" in path.parts:
            continue
        for match in CALL.finditer(path.read_text()):
            found.setdefault(match.group(1) or match.group(2), path.name)
    return found


def test_the_check_finds_the_texts() -> None:
    texts = _texts()
    assert (
        "Log in" in texts and "Too many failed attempts. Try again in {seconds} seconds." in texts
    )


def test_every_english_text_has_its_turkish() -> None:
    missing = {text: where for text, where in _texts().items() if text not in catalogue()}
    assert missing == {}


def test_placeholders_survive_translation() -> None:
    broken = {
        english: turkish
        for english, turkish in catalogue().items()
        if set(re.findall(r"{\w*}", english)) != set(re.findall(r"{\w*}", turkish))
    }
    assert broken == {}


def test_language_choice() -> None:
    assert choose(None, None) == "tr"
    assert choose(None, "en-US,en;q=0.9") == "en"
    assert choose(None, "de-DE,de;q=0.9,en;q=0.8,tr;q=0.7") == "en"
    assert choose(None, "en;q=0.3, tr;q=0.8") == "tr"
    assert choose("en", "tr-TR") == "en"
    assert choose("xx", "de") == "tr"


def test_numbers_and_times_as_each_language_writes_them() -> None:
    from datetime import UTC, datetime

    tr, en = Translator("tr"), Translator("en")
    assert tr.number(1234567) == "1.234.567" and en.number(1234567) == "1,234,567"
    assert tr.money(123456) == "1.234,56 TL" and en.money(123456) == "1,234.56 TL"
    moment = datetime(2026, 12, 6, 21, 30, tzinfo=UTC)
    # Istanbul is UTC+3: a late evening in UTC is the next day there.
    assert tr.moment(moment) == "07.12.2026 00:30:00"
    assert en.moment(moment) == "2026-12-07 00:30:00"
