"""Sender IDs (titles) as the Turkish market allows them."""

from __future__ import annotations

import re
from enum import StrEnum

# 3 to 11 characters: ASCII letters, digits, space, '.', '-'. Case is kept: titles are
# case-sensitive, and "ILETI" and "Ileti" are two titles.
_TITLE = re.compile(r"[A-Za-z0-9 .\-]{3,11}")


class TitleStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    INACTIVE = "inactive"


class InvalidTitle(ValueError):
    pass


def validate_title(title: str) -> str:
    if not _TITLE.fullmatch(title) or not title.strip():
        raise InvalidTitle(
            "a sender ID has 3 to 11 characters: ASCII letters, digits, space, '.' or '-'"
        )
    return title
