"""What a send asks for, and the order it becomes once checked as far as it can be without the
database: numbers normalised, texts encoded and measured, the schedule worked out.

The checks run in the order the contract's clients know from the API (a missing number is told
before an empty text, both before a bad schedule), whichever door the send came in by. A group
is checked in two steps: everything but its recipients (``group_draft``, cheap), then its
recipients (``RecipientList``, the expensive part), which a caller may do a slice at a time.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import NamedTuple, cast

from ileti import codes
from ileti.codes import GatewayError, ResultCode
from ileti.domain import priority
from ileti.domain.encoding import (
    Encoding,
    MessageTooLong,
    SmsLang,
    measure,
    replaced_letters,
    uncarried,
)
from ileti.domain.numbers import PhoneNumber, lookup
from ileti.domain.schedule import InvalidSchedule, due_time
from ileti.validation import (
    IYS_RECIPIENT_TYPES,
    content_type,
    has_control,
    has_text,
    invalid,
    is_whole,
    iys_recipient_type,
    phone_number,
    quoted,
    sms_lang,
    text,
    title,
    within,
)

MAX_RECIPIENTS = 100_000
DEFAULT_VALIDITY_MINUTES = 1440
MAX_VALIDITY_MINUTES = 4320


@dataclass(frozen=True, slots=True)
class Schedule:
    """When to send: now, or at a Europe/Istanbul date and time; valid for so long after."""

    scheduled: object = None  # 1 (or "1"): at date and time; 0 (or "0") or None: now
    date: object = None  # YYYY-MM-DD
    time: object = None  # HH:MM
    validity_minutes: object = None  # 1 to 4320; None: 1440


@dataclass(frozen=True, slots=True)
class SingleSend:
    """One text to one number."""

    title: object
    text: object
    number: object
    sms_lang: object = None
    content_type: object = None
    schedule: Schedule = Schedule()
    iys_recipient_type: object = None  # BIREYSEL (None) or TACIR: for Advertising only


@dataclass(frozen=True, slots=True)
class GroupSend:
    """One text to many numbers (``texts`` None), or each number its own text."""

    title: object
    numbers: Sequence[object] | None
    text: object = None
    texts: Sequence[object] | None = None
    sms_lang: object = None
    content_type: object = None
    schedule: Schedule = Schedule()
    iys_recipient_type: object = None  # BIREYSEL (None) or TACIR: for Advertising only


class Recipient(NamedTuple):
    """A tuple: a group makes 100,000 of them per request."""

    position: int  # in the request's list
    raw: str
    number: PhoneNumber
    text: str
    encoding: Encoding


@dataclass(frozen=True, slots=True)
class Rejection:
    """A recipient of a group left out, and why."""

    index: int
    sentto: str
    result: ResultCode


class Rejections:
    """A group's recipients left out: the numbers that are none and the repeats, kept as their
    positions in the request (100,000 objects of their own would be 100,000 more for the
    garbage collector to walk while the group waits), and the few left out later (blacklisted,
    abroad without the switch). Made into ``Rejection``s when they are read, by position."""

    __slots__ = ("_invalid", "_more", "_numbers", "_repeated")

    def __init__(
        self,
        numbers: Sequence[object] = (),
        invalid: list[int] | None = None,
        repeated: list[int] | None = None,
        more: Sequence[Rejection] = (),
    ) -> None:
        self._numbers = numbers
        self._invalid = invalid or []
        self._repeated = repeated or []
        self._more = list(more)

    def __len__(self) -> int:
        return len(self._invalid) + len(self._repeated) + len(self._more)

    def __bool__(self) -> bool:
        return len(self) > 0

    def plus(self, more: Sequence[Rejection]) -> Rejections:
        return Rejections(self._numbers, self._invalid, self._repeated, [*self._more, *more])

    def first(self, count: int) -> list[Rejection]:
        """The ``count`` of lowest position."""
        # Each list holds its positions in order: merged, they are in order too.
        positions = heapq.merge(
            ((i, codes.INVALID_NUMBER) for i in self._invalid),
            ((i, codes.INVALID_FIELD) for i in self._repeated),
            key=itemgetter(0),
        )
        made = [
            Rejection(i, quoted(self._numbers[i]), code)
            for i, code in itertools.islice(positions, count)
        ]
        return sorted([*made, *self._more], key=lambda r: r.index)[:count]

    def all(self) -> list[Rejection]:
        """Every one, by position."""
        return self.first(len(self))


@dataclass(frozen=True, slots=True)
class FieldWarning:
    """Something the send was accepted despite: an encoding other than the one asked for, or
    letters a transliteration changed. ``field`` is "" when no field is meant."""

    field: str
    message: str


@dataclass(frozen=True, slots=True)
class OtpOrder:
    """What an OTP adds to its message: the OTP's row, made before it is stored."""

    otp_id: str
    code: str
    code_hash: str
    masked_text: str
    expires_at: datetime
    attempts: int
    code_in_response: bool


@dataclass
class Order:
    """A send, checked as far as it can be without the database."""

    kind: str  # single, group or otp
    title: str
    content_type: int
    lang: SmsLang
    priority: int
    due_at: datetime
    expires_at: datetime
    recipients: list[Recipient]
    rejected: Rejections = field(default_factory=Rejections)
    total: int = 1
    grouped: bool = False
    otp: OtpOrder | None = None
    warnings: list[FieldWarning] = field(default_factory=list)
    # Whose İYS consent an Advertising message needs.
    iys_recipient_type: str = IYS_RECIPIENT_TYPES[0]


def single_order(send: SingleSend, max_segments: int, now: datetime) -> Order:
    if send.number is None or send.number == "":
        raise GatewayError(codes.NUMBER_MISSING)
    if not has_text(send.text):
        raise GatewayError(codes.TEXT_EMPTY)
    message = text(send.text)
    sender = title(send.title)
    lang = sms_lang(send.sms_lang)
    number = phone_number(send.number, "sentto")
    encoding = encode(message, lang, max_segments)
    recipient = Recipient(0, quoted(send.number), number, message, encoding)
    due, expires = schedule(send.schedule, now)
    return Order(
        kind="single",
        title=sender,
        content_type=content_type(send.content_type),
        lang=lang,
        priority=priority.SINGLE,
        due_at=due,
        expires_at=expires,
        recipients=[recipient],
        warnings=encoding_warnings(lang, [(message, encoding)]),
        iys_recipient_type=iys_recipient_type(send.iys_recipient_type),
    )


@dataclass(frozen=True, slots=True)
class GroupDraft:
    """A group checked in all but its recipients: what is left is the expensive part."""

    title: str
    lang: SmsLang
    numbers: Sequence[object]
    texts: Sequence[str] | None  # each recipient's own; None: ``text`` for all
    text: str | None
    encoding: Encoding | None  # of ``text``
    content_type: int
    due_at: datetime
    expires_at: datetime
    iys_recipient_type: str = IYS_RECIPIENT_TYPES[0]

    def recipients_beyond(self, capacity: int) -> int | None:
        """How many recipients the group has (different entries: repeats are never charged
        twice) when that is more than ``capacity``; None when it is not."""
        if len(self.numbers) <= capacity:
            return None
        if capacity == 0:
            return len(self.numbers)  # one is more than none: no need to count them
        try:
            distinct = len(set(self.numbers))
        except TypeError:  # an entry no door should give; the recipients' check refuses it
            distinct = len(self.numbers)
        return distinct if distinct > capacity else None

    def order(self, recipients: RecipientList) -> Order:
        return Order(
            kind="group",
            title=self.title,
            content_type=self.content_type,
            lang=self.lang,
            priority=priority.BULK,
            due_at=self.due_at,
            expires_at=self.expires_at,
            recipients=recipients.accepted,
            rejected=Rejections(self.numbers, recipients.invalid, recipients.repeated),
            total=len(self.numbers),
            grouped=True,
            warnings=recipients.warnings(),
            iys_recipient_type=self.iys_recipient_type,
        )


def group_draft(
    send: GroupSend, max_segments: int, now: datetime, max_recipients: int = MAX_RECIPIENTS
) -> GroupDraft:
    """Every check of a group but its recipients', in the order clients know.
    ``max_recipients``: the API's bound, unless a door that reads its numbers from a file
    (a campaign, bounded by its rows) gives its own."""
    numbers = send.numbers
    if not numbers:
        raise GatewayError(codes.NUMBER_MISSING)
    if len(numbers) > max_recipients:
        raise GatewayError(
            codes.TOO_MANY_RECIPIENTS,
            f"{len(numbers):,} recipients; at most {max_recipients:,} a request.",
        )
    one_text: str | None = None
    texts: Sequence[str] | None = None
    if send.texts is None:
        if not has_text(send.text):
            raise GatewayError(codes.TEXT_EMPTY)
        one_text = text(send.text)
    else:
        texts = _texts(send.texts, len(numbers))
    sender = title(send.title)
    lang = sms_lang(send.sms_lang)
    encoding = encode(one_text, lang, max_segments) if one_text is not None else None
    due, expires = schedule(send.schedule, now)
    return GroupDraft(
        title=sender,
        lang=lang,
        numbers=numbers,
        texts=texts,
        text=one_text,
        encoding=encoding,
        content_type=content_type(send.content_type),
        due_at=due,
        expires_at=expires,
        iys_recipient_type=iys_recipient_type(send.iys_recipient_type),
    )


def _texts(given: Sequence[object], count: int) -> Sequence[str]:
    """A text per recipient: as many as numbers, each a string that says something, with no
    control characters. Checked with C-speed passes over all of them: a mixed group may hold
    100,000 texts."""
    if len(given) != count:
        raise GatewayError(codes.MIXED_LENGTH_MISMATCH)
    for index, one in enumerate(given):
        if not isinstance(one, str):
            raise invalid(f"text[{index}]", "must be a string")
    texts = cast(Sequence[str], given)
    if not all(texts) or any(map(str.isspace, texts)):
        raise GatewayError(codes.TEXT_EMPTY, "Every text must be non-empty.")
    # One search over all texts; only a text that has such a character is looked for.
    if has_control("\n".join(texts)):
        for index, one in enumerate(texts):
            text(one, f"text[{index}]")
    return texts


def group_order(send: GroupSend, max_segments: int, now: datetime) -> Order:
    """A group checked whole, at once (a preview, a file campaign)."""
    draft = group_draft(send, max_segments, now)
    recipients = RecipientList(draft, max_segments)
    recipients.check()
    return draft.order(recipients)


class RecipientList:
    """A group's recipients, checked a slice at a time: numbers normalised and deduplicated,
    texts encoded (once per distinct text); invalid numbers become rejections."""

    # Numbers checked between looks at the clock: a few milliseconds at the most expensive
    # (a full parse of a foreign number, tens of microseconds).
    STEP = 64

    def __init__(self, draft: GroupDraft, max_segments: int) -> None:
        self.draft = draft
        self.max_segments = max_segments
        self.accepted: list[Recipient] = []
        self.invalid: list[int] = []  # positions of entries that are no number
        self.repeated: list[int] = []  # positions of numbers given before
        self.position = 0
        self._seen: set[str] = set()
        self._encodings: dict[str, Encoding] = {}
        if draft.text is not None and draft.encoding is not None:
            self._encodings[draft.text] = draft.encoding

    @property
    def done(self) -> bool:
        return self.position >= len(self.draft.numbers)

    def check(self, seconds: float = float("inf"), at_most: int | None = None) -> None:
        """Check recipients for about ``seconds`` of CPU time and ``at_most`` of them (at least
        one step), or to the end. Raises TS-1046 for a recipient's text over the segment cap."""
        deadline = time.perf_counter() + seconds
        total = len(self.draft.numbers)
        if at_most is not None:
            total = min(total, self.position + max(at_most, self.STEP))
        while self.position < total:
            stop = min(self.position + self.STEP, total)
            self._check(self.position, stop)
            self.position = stop
            if time.perf_counter() >= deadline:
                return

    def _check(self, start: int, stop: int) -> None:
        draft = self.draft
        numbers = draft.numbers
        texts = draft.texts
        one_text = draft.text
        accepted, invalid, repeated, seen, encodings = (
            self.accepted, self.invalid, self.repeated, self._seen, self._encodings
        )  # fmt: skip
        for index in range(start, stop):
            raw = numbers[index]
            number = _number_or_none(raw)
            if number is None:
                invalid.append(index)
                continue
            if number.digits in seen:
                repeated.append(index)
                continue
            seen.add(number.digits)
            message = one_text if texts is None else texts[index]
            assert message is not None
            encoding = encodings.get(message)
            if encoding is None:
                encoding = encodings[message] = encode(message, draft.lang, self.max_segments)
            accepted.append(Recipient(index, quoted(raw), number, message, encoding))

    def warnings(self) -> list[FieldWarning]:
        """About the texts of the recipients accepted (a text's field is ``text[i]`` in a mixed
        group, named by its first recipient)."""
        if self.draft.texts is None:
            if not self.accepted or self.draft.encoding is None:
                return []
            assert self.draft.text is not None
            return encoding_warnings(self.draft.lang, [(self.draft.text, self.draft.encoding)])
        first: dict[str, int] = {}
        for recipient in self.accepted:
            first.setdefault(recipient.text, recipient.position)
        measured = [(one, self._encodings[one]) for one in first]
        return encoding_warnings(self.draft.lang, measured, [f"text[{i}]" for i in first.values()])


def encoding_warnings(
    lang: SmsLang,
    measured: Sequence[tuple[str, Encoding]],
    fields: Sequence[str] | None = None,
    lang_field: str = "sms_lang",
) -> list[FieldWarning]:
    """What the caller should know of how its texts go out: one that asked for a GSM alphabet
    but went as Unicode (and costs more segments), and letters a transliteration changed. One
    warning of each kind, naming the first text it concerns and how many others it does."""
    if lang is not SmsLang.ENGLISH and lang is not SmsLang.TURKISH:
        return []  # Unicode and "auto" ask for no alphabet: whatever they take is no surprise
    if not any(e.transliterated or _went_wide(lang, e) for _, e in measured):
        return []
    fields = fields or ["text"] * len(measured)
    warnings: list[FieldWarning] = []
    wide = [(f, t, e) for f, (t, e) in zip(fields, measured, strict=True) if _went_wide(lang, e)]
    if wide:
        where, given, encoding = wide[0]
        chars = ", ".join(quoted(c) for c in uncarried(given, lang)[:5])
        carried = f" ({chars})" if chars else ""
        warnings.append(
            FieldWarning(
                lang_field,
                f"{lang_field} {lang.value} ({lang.label}) was asked for, but {where} has"
                f" characters GSM 7-bit cannot carry{carried}: it goes as Unicode,"
                f" {_segments(encoding.segments)}{_others(len(wide) - 1)}",
            )
        )
    changed = [(f, t, e) for f, (t, e) in zip(fields, measured, strict=True) if e.transliterated]
    if changed:
        where, given, encoding = changed[0]
        assert encoding.transliterated is not None
        pairs = replaced_letters(given, encoding.transliterated)
        shown = ", ".join(f"{quoted(a)}→{quoted(b)}" for a, b in pairs[:8])
        warnings.append(
            FieldWarning(
                where,
                f"{lang_field} {lang.value} ({lang.label}) writes Turkish letters in Latin ones:"
                f" {shown}; send {lang_field} 1 (Turkish) or 'auto' to keep them"
                f"{_others(len(changed) - 1)}",
            )
        )
    return warnings


def _went_wide(lang: SmsLang, encoding: Encoding) -> bool:
    return lang in (SmsLang.ENGLISH, SmsLang.TURKISH) and encoding.label == "Unicode"


def _segments(count: int) -> str:
    return f"{count} segment{'s' if count != 1 else ''}"


def _others(count: int) -> str:
    return f" (and {count:,} other text{'s' if count != 1 else ''})" if count else ""


def schedule(given: Schedule, now: datetime) -> tuple[datetime, datetime]:
    """(due, expires): validity runs from the due time."""
    scheduled = given.scheduled
    if scheduled is not None and not (isinstance(scheduled, str) or is_whole(scheduled)):
        raise invalid("scheduled_sms", "must be 1 or 0")
    if scheduled not in (None, 0, 1, "0", "1"):
        raise GatewayError(
            codes.INVALID_SCHEDULE,
            "scheduled_sms is 1 or 0.",
            errors=[{"field": "scheduled_sms", "message": "must be 1 or 0"}],
        )
    wanted = scheduled in (1, "1")
    for name, value in (("scheduled_date", given.date), ("scheduled_time", given.time)):
        if value is not None and not isinstance(value, str):
            raise invalid(name, "must be a string")
    assert given.date is None or isinstance(given.date, str)
    assert given.time is None or isinstance(given.time, str)
    try:
        due = due_time(wanted, given.date, given.time, now)
    except InvalidSchedule as exc:
        raise GatewayError(
            codes.INVALID_SCHEDULE,
            f"{exc}.",
            errors=[{"field": exc.field, "message": str(exc)}] if exc.field else None,
        ) from None
    minutes = within(
        "validity_minutes",
        given.validity_minutes,
        1,
        MAX_VALIDITY_MINUTES,
        DEFAULT_VALIDITY_MINUTES,
    )
    return due, due + timedelta(minutes=minutes)


def encode(message: str, lang: SmsLang, max_segments: int) -> Encoding:
    try:
        return measure(message, lang, max_segments)
    except MessageTooLong as exc:
        raise GatewayError(
            codes.TOO_LONG, f"The message takes {exc.segments} segments; the cap is {exc.cap}."
        ) from None


def _number_or_none(raw: object) -> PhoneNumber | None:
    # A group's invalid numbers are rejections, not errors: no exception built for each.
    if isinstance(raw, str):
        found = lookup(raw)
    elif is_whole(raw) and raw >= 0:
        found = lookup(str(raw))
    else:
        return None
    return None if isinstance(found, str) else found
