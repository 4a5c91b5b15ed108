"""What a send would take, before it is sent: its text measured as the sending service will
measure it, and its recipients counted as the service will count them (numbers that are none
and repeats left out), for a counter under a form that updates as its user types.

A preview refuses nothing: an empty text, or one over the segment cap, is measured and said to
be so; the send itself gives the refusals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ileti.domain.encoding import MAX_CONCATENATED, Encoding, MessageTooLong, SmsLang, measure
from ileti.domain.pricing import price_of
from ileti.sending.orders import GroupDraft, RecipientList

# The recipients are counted apart from the text (which may be empty or too long while it is
# typed), each with this text in its place.
_NO_TEXT = ""


@dataclass(frozen=True, slots=True)
class Estimate:
    characters: int
    # How the text goes out; None when it is empty, or too long to be measured at all.
    encoding: Encoding | None
    segments: int
    cap: int  # the most segments a message may take
    domestic: int  # recipients in Turkey: a credit per segment each
    abroad: Mapping[str, int] = field(default_factory=dict)  # recipients by country code
    invalid: int = 0  # entries that are no number that can receive SMS
    repeated: int = 0  # numbers given before

    @property
    def too_long(self) -> bool:
        return self.segments > self.cap

    @property
    def recipients(self) -> int:
        return self.domestic + sum(self.abroad.values())

    @property
    def credits(self) -> int:
        """From the main balance."""
        return self.segments * self.domestic

    def cost_abroad(self, prices: Mapping[str, int]) -> int:
        """Kuruş from the international balance, at ``prices`` (kuruş a segment by country)."""
        return sum(
            price_of(region, self.segments, False, prices).amount * count
            for region, count in self.abroad.items()
        )


def estimate(
    text: str, lang: SmsLang, numbers: Sequence[object], max_segments: int, now: datetime
) -> Estimate:
    encoding, segments = _measured(text, lang)
    recipients = RecipientList(
        GroupDraft(
            title="",
            lang=lang,
            numbers=numbers,
            texts=None,
            text=_NO_TEXT,
            encoding=measure(_NO_TEXT, lang),
            content_type=0,
            due_at=now,
            expires_at=now,
        ),
        max_segments,
    )
    recipients.check()
    abroad = Counter(r.number.region for r in recipients.accepted if not r.number.domestic)
    return Estimate(
        characters=len(text),
        encoding=encoding,
        segments=segments,
        cap=max_segments,
        domestic=len(recipients.accepted) - abroad.total(),
        abroad=dict(abroad),
        invalid=len(recipients.invalid),
        repeated=len(recipients.repeated),
    )


def _measured(text: str, lang: SmsLang) -> tuple[Encoding | None, int]:
    if not text:
        return None, 0
    try:
        encoding = measure(text, lang, MAX_CONCATENATED)
    except MessageTooLong as exc:
        return None, exc.segments
    return encoding, encoding.segments
