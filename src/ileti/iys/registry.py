"""The simulator's registry: every brand's consent records, kept as İYS keeps them.

Each (iysCode, brandCode, recipient, recipientType, type) has a history of records; a record is
accepted only if it follows the last one by the rules of ``domain.consent``. Changes citizens
make (İYS's own sources) also go into the brand's changes feed, numbered in the order they came.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from ileti.domain.consent import Consent, check_next, fields_of, iys_date, read

# Without a cursor the feed starts this far back, as İYS's does.
FEED_WINDOW = timedelta(days=7)

Brand = tuple[str, str]  # (iysCode, brandCode)


@dataclass(frozen=True, slots=True)
class Entry:
    """A record the registry accepted."""

    consent: Consent
    transaction_id: str
    created: datetime
    cursor: int  # its place in the brand's changes feed; 0 for a brand's own record

    def answer(self) -> dict[str, object]:
        """The record as İYS shows it, with what the registry gave it."""
        return {
            **fields_of(self.consent),
            "creationDate": iys_date(self.created),
            "transactionId": self.transaction_id,
        }


class Registry:
    """Histories per recipient and the citizens' changes per brand, in memory."""

    def __init__(self) -> None:
        self._histories: dict[tuple[str, str, str, str, str], list[Entry]] = {}
        self._feeds: dict[Brand, list[Entry]] = {}
        self._last_cursor = 0

    def add(
        self, brand: Brand, fields: Mapping[str, object], now: datetime, *, citizen: bool = False
    ) -> Entry:
        """Check ``fields`` and append the record; ``Refused`` says why it cannot be."""
        record = read(fields, now, citizen=citizen)
        history = self._histories.setdefault((*brand, *record.key), [])
        check_next(record, history[-1].consent if history else None)
        cursor = 0
        if citizen:
            self._last_cursor += 1
            cursor = self._last_cursor
        entry = Entry(record, str(uuid.uuid4()), now, cursor)
        history.append(entry)
        if citizen:
            self._feeds.setdefault(brand, []).append(entry)
        return entry

    def history(self, brand: Brand, recipient: str, recipient_type: str, type: str) -> list[Entry]:
        return list(self._histories.get((*brand, recipient, recipient_type, type), ()))

    def changes(self, brand: Brand, after: int | None, limit: int, now: datetime) -> list[Entry]:
        """Up to ``limit`` citizens' changes after the cursor ``after``, oldest first; without
        one, those of the last seven days."""
        feed = self._feeds.get(brand, [])
        if after is None:
            since = now - FEED_WINDOW
            chosen = (entry for entry in feed if entry.created >= since)
        else:
            chosen = (entry for entry in feed if entry.cursor > after)
        return list(islice(chosen, limit))
