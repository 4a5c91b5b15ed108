"""The panel's two languages: English (the text in the code and templates) and Turkish (the
catalogues in ``web/locales``, one module per area of the panel, each a ``TR`` mapping).

The language comes from the ``lang`` cookie, else ``Accept-Language``; dates and times are shown
in Europe/Istanbul whatever the server's zone, numbers as the language writes them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from ileti.web import locales

LANGUAGES = ("tr", "en")
DEFAULT = "tr"
ISTANBUL = ZoneInfo("Europe/Istanbul")


@cache
def catalogue() -> Mapping[str, str]:
    """English → Turkish, from every module of ``web/locales``."""
    merged: dict[str, str] = {}
    for module in pkgutil.iter_modules(locales.__path__):
        merged.update(importlib.import_module(f"{locales.__name__}.{module.name}").TR)
    return merged


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if it is one of ours, else the first of ours the browser asks
    for by its quality, else Turkish."""
    if cookie in LANGUAGES:
        return cookie
    asked: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip().lower()[:2]
        if language in LANGUAGES and quality > 0:
            asked.append((-quality, position, language))
    return min(asked)[2] if asked else DEFAULT


@dataclass(frozen=True, slots=True)
class Translator:
    lang: str

    def text(self, english: str, **values: object) -> str:
        """The text in this language, with ``{name}`` filled from ``values``."""
        chosen = catalogue().get(english, english) if self.lang == "tr" else english
        return chosen.format(**values) if values else chosen

    def number(self, value: int | float, decimals: int = 0) -> str:
        text = f"{value:,.{decimals}f}"
        if self.lang == "tr":
            return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text

    def money(self, kurus: int) -> str:
        """An amount in kuruş as lira."""
        return f"{self.number(kurus / 100, 2)} TL"

    def moment(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        local = value.astimezone(ISTANBUL)
        return local.strftime("%d.%m.%Y %H:%M:%S" if self.lang == "tr" else "%Y-%m-%d %H:%M:%S")

    def day(self, value: datetime) -> str:
        local = value.astimezone(ISTANBUL)
        return local.strftime("%d.%m.%Y" if self.lang == "tr" else "%Y-%m-%d")
