"""What a send asks for, and the order it becomes once checked as far as it can be without the
database: numbers normalised, texts encoded and measured, the schedule worked out.

The checks run in the order the contract's clients know from the API (a missing number is told
before an empty text, both before a bad schedule), whichever door the send came in by. A group
is checked in two steps: everything but its recipients (``group_draft``, cheap), then its
recipients (``RecipientList``, the expensive part), which a caller may do a slice at a time.

A campaign's group has a million recipients: they are kept as columns of small numbers
(``Recipients``) and its texts as one buffer (``Texts``), not as objects of their own.
"""

from __future__ import annotations

import heapq
import itertools
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import NamedTuple, cast, overload

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
# Texts read or joined at once: a million of them at once would be hundreds of MB.
_TEXTS_AT_ONCE = 10_000
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
    """One recipient of an order, as a single send has it and as ``Recipients`` reads back."""

    position: int  # in the request's list
    raw: str
    number: PhoneNumber
    text: str
    encoding: Encoding


class TextColumn(Sequence[str]):
    """Strings kept in some compact form, each made when it is read; ``pick`` reads many in one
    call (a slice of a group's million)."""

    __slots__ = ()

    def pick(self, indices: Iterable[int]) -> list[str]:
        """The texts at ``indices`` (none negative)."""
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return self.pick(range(*index.indices(len(self))))
        at = index + len(self) if index < 0 else index
        if not 0 <= at < len(self):
            raise IndexError(index)
        return self.pick((at,))[0]

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), _TEXTS_AT_ONCE):
            yield from self.pick(range(start, min(start + _TEXTS_AT_ONCE, len(self))))


class Texts(TextColumn):
    """Strings kept as one UTF-8 buffer and where each ends: a million short Turkish texts take
    the bytes of their characters, a third of what as many ``str`` objects hold."""

    __slots__ = ("_data", "_ends")

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._data = bytearray()
        self._ends = array("q")
        for one in texts:
            self.append(one)

    def append(self, text: str) -> None:
        # surrogatepass: a lone surrogate (JSON lets one through) reads back as it went in.
        self._data += text.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._data))

    def __len__(self) -> int:
        return len(self._ends)

    def pick(self, indices: Iterable[int]) -> list[str]:
        data, ends = self._data, self._ends
        return [
            data[ends[at - 1] if at else 0 : ends[at]].decode("utf-8", "surrogatepass")
            for at in indices
        ]


class Recipients(Sequence[Recipient]):
    """A group's accepted recipients as columns: a row's position in the request, its number's
    digits (as an integer), and what it shares with others, kept once in a table each: its
    country and operator (a ``PhoneNumber`` without digits), its text's encoding (without a
    transliteration). Raw numbers and texts are read from the request's own lists; only texts
    a transliteration changed are kept here. A million rows take about twenty bytes each;
    rows are read back as ``Recipient``s, or column by column by whoever stores them."""

    __slots__ = (
        "_numbers",
        "_outgoing",
        "_place_of",
        "_shape_of",
        "_text",
        "_text_sent",
        "_texts",
        "digits",
        "place_table",
        "places",
        "positions",
        "shape_table",
        "shapes",
    )

    def __init__(
        self,
        numbers: Sequence[object],
        texts: Sequence[str] | None,
        text: str | None = None,
        encoding: Encoding | None = None,
    ) -> None:
        self._numbers = numbers  # by position: the request's entries
        self._texts = texts  # by position; None: ``text`` for all
        self._text = text
        self._text_sent = encoding.transliterated if encoding is not None else None
        # Per row, the text that goes out, once a transliteration changed one of ``texts``.
        self._outgoing: Texts | None = None
        self.positions = array("I")
        self.digits = array("q")
        self.places = array("H")
        self.shapes = array("I")
        self.place_table: list[PhoneNumber] = []
        self.shape_table: list[Encoding] = []
        self._place_of: dict[tuple[str, str, str | None], int] = {}
        self._shape_of: dict[Encoding, int] = {}

    def add(
        self, position: int, number: PhoneNumber, digits: int, text: str, encoding: Encoding
    ) -> None:
        """A recipient accepted (``digits``: its number's, as an integer); ``text`` is its own
        (or the group's one text)."""
        self.positions.append(position)
        self.digits.append(digits)
        place = number[1:]
        at = self._place_of.get(place)
        if at is None:
            at = self._place_of[place] = len(self.place_table)
            self.place_table.append(PhoneNumber("", *place))
        self.places.append(at)
        sent = encoding.transliterated
        if sent is not None:
            encoding = encoding._replace(transliterated=None)
        shape = self._shape_of.get(encoding)
        if shape is None:
            shape = self._shape_of[encoding] = len(self.shape_table)
            self.shape_table.append(encoding)
        self.shapes.append(shape)
        if self._texts is None:
            return
        if sent is not None and self._outgoing is None:
            # The first text a transliteration changed: the rows before it go out as given.
            self._outgoing = Texts(self._given(row) for row in range(len(self.positions) - 1))
        if self._outgoing is not None:
            self._outgoing.append(sent if sent is not None else text)

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, index: int) -> Recipient: ...

    @overload
    def __getitem__(self, index: slice) -> list[Recipient]: ...

    def __getitem__(self, index: int | slice) -> Recipient | list[Recipient]:
        if isinstance(index, slice):
            return [self[row] for row in range(*index.indices(len(self)))]
        row = index + len(self) if index < 0 else index
        given, sent = self._given(row), self.text(row)
        encoding = self.shape_table[self.shapes[row]]
        if sent != given:
            encoding = encoding._replace(transliterated=sent)
        return Recipient(self.positions[row], self.raw(row), self.number(row), given, encoding)

    def __iter__(self) -> Iterator[Recipient]:
        return (self[row] for row in range(len(self)))

    def raw(self, row: int) -> str:
        """The entry as the request gave it, as an answer shows it."""
        return quoted(self._numbers[self.positions[row]])

    def number(self, row: int) -> PhoneNumber:
        _, region, country_name, operator = self.place_table[self.places[row]]
        return PhoneNumber(str(self.digits[row]), region, country_name, operator)

    def text(self, row: int) -> str:
        """The text that goes out (a transliteration's, where one changed it)."""
        return self.texts((row,))[0]

    def texts(self, rows: Sequence[int]) -> list[str]:
        """The texts that go out, of ``rows``: one call for a slice of a group."""
        if self._outgoing is not None:
            return self._outgoing.pick(rows)
        if self._texts is None:
            return [self._text_sent or cast(str, self._text)] * len(rows)
        positions = map(self.positions.__getitem__, rows)
        if isinstance(self._texts, TextColumn):
            return self._texts.pick(positions)
        return list(map(self._texts.__getitem__, positions))

    def _given(self, row: int) -> str:
        if self._texts is None:
            return cast(str, self._text)
        return self._texts[self.positions[row]]

    def digit_strings(self) -> Iterator[str]:
        return map(str, self.digits)

    def domestic_digits(self) -> Iterator[str]:
        """The digits of the numbers in Turkey."""
        domestic = [place.domestic for place in self.place_table]
        return (str(d) for d, at in zip(self.digits, self.places, strict=True) if domestic[at])

    def abroad(self) -> bool:
        """Whether any number is outside Turkey."""
        return any(not place.domestic for place in self.place_table)


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
        invalid: Sequence[int] = (),
        repeated: Sequence[int] = (),
        more: Sequence[Rejection] = (),
    ) -> None:
        self._numbers = numbers
        self._invalid = invalid
        self._repeated = repeated
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
    recipients: Sequence[Recipient]  # a group's are ``Recipients``; a single's, a list
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
    control characters. Checked with C-speed passes over slices of them (a file's group may
    hold a million texts), the refusals in the order clients know: a text that is no string,
    then an empty one, then a control character."""
    if len(given) != count:
        raise GatewayError(codes.MIXED_LENGTH_MISMATCH)
    if not isinstance(given, TextColumn):  # which holds strings only
        for index, one in enumerate(given):
            if not isinstance(one, str):
                raise invalid(f"text[{index}]", "must be a string")
    texts = cast(Sequence[str], given)
    controlled = None  # the first slice with a control character
    for start in range(0, len(texts), _TEXTS_AT_ONCE):
        chunk = texts[start : start + _TEXTS_AT_ONCE]
        if not all(chunk) or any(map(str.isspace, chunk)):
            raise GatewayError(codes.TEXT_EMPTY, "Every text must be non-empty.")
        if controlled is None and has_control("\n".join(chunk)):
            controlled = start
    if controlled is not None:
        for index in range(controlled, len(texts)):
            text(texts[index], f"text[{index}]")
    return texts


def group_order(send: GroupSend, max_segments: int, now: datetime) -> Order:
    """A group checked whole, at once (a preview, a file campaign)."""
    draft = group_draft(send, max_segments, now)
    recipients = RecipientList(draft, max_segments)
    recipients.check()
    return draft.order(recipients)


class RecipientList:
    """A group's recipients, checked a slice at a time: numbers normalised and deduplicated,
    texts encoded (once per distinct text, of the first few thousand); invalid numbers become
    rejections."""

    # Numbers checked between looks at the clock: a few milliseconds at the most expensive
    # (a full parse of a foreign number, tens of microseconds).
    STEP = 64
    # Distinct texts whose encoding is remembered: a mixed group repeats a few texts, a file's
    # rows each have their own, and remembering a million would cost more than measuring them.
    REMEMBERED = 4_096

    def __init__(self, draft: GroupDraft, max_segments: int) -> None:
        self.draft = draft
        self.max_segments = max_segments
        self.accepted = Recipients(draft.numbers, draft.texts, draft.text, draft.encoding)
        self.invalid = array("I")  # positions of entries that are no number
        self.repeated = array("I")  # positions of numbers given before
        self.position = 0
        self._seen = _Seen(len(draft.numbers))
        self._encodings: dict[str, Encoding] = {}
        if draft.text is not None and draft.encoding is not None:
            self._encodings[draft.text] = draft.encoding
        mixed = draft.texts is not None and draft.lang in _ALPHABETS_ASKED
        self._noted = _NotedTexts(draft.lang) if mixed else None

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
                break
        if self.done:
            self._seen = _Seen(0)  # what only the check needed goes before the group is stored
            self._encodings = {}

    def _check(self, start: int, stop: int) -> None:
        draft = self.draft
        # Read a step at once: a file's numbers and texts are made from a buffer a call each.
        numbers = draft.numbers[start:stop]
        texts = draft.texts[start:stop] if draft.texts is not None else None
        one_text = draft.text
        add, invalid, repeated, seen, encodings, noted = (
            self.accepted.add, self.invalid, self.repeated, self._seen, self._encodings,
            self._noted,
        )  # fmt: skip
        for offset, raw in enumerate(numbers):
            index = start + offset
            number = _number_or_none(raw)
            if number is None:
                invalid.append(index)
                continue
            digits = int(number.digits)
            if not seen.add(number.digits, digits):
                repeated.append(index)
                continue
            message = one_text if texts is None else texts[offset]
            assert message is not None
            encoding = encodings.get(message)
            if encoding is None:
                encoding = encode(message, draft.lang, self.max_segments)
                if len(encodings) < self.REMEMBERED:
                    encodings[message] = encoding
                if noted is not None:
                    noted.add(index, message, encoding)
            add(index, number, digits, message, encoding)

    def warnings(self) -> list[FieldWarning]:
        """About the texts of the recipients accepted (a text's field is ``text[i]`` in a mixed
        group, named by its first recipient)."""
        if self.draft.texts is None:
            if not self.accepted or self.draft.encoding is None:
                return []
            assert self.draft.text is not None
            return encoding_warnings(self.draft.lang, [(self.draft.text, self.draft.encoding)])
        return self._noted.warnings() if self._noted is not None else []


class _Seen:
    """The numbers a group has given, as a table of their digits (64-bit integers, 0 for a free
    slot) found by the hash of their text: a million take 16 MB, where a set of Python integers
    takes 64 MB of objects. Made for ``count`` numbers at most; never more than half full."""

    __slots__ = ("_mask", "_table")

    def __init__(self, count: int) -> None:
        size = 8
        while size < 2 * count:
            size *= 2
        self._table = array("q", [0]) * size
        self._mask = size - 1

    def add(self, text: str, digits: int) -> bool:
        """Whether the number (``digits``, written as ``text``) is new; it is kept if so."""
        table, mask = self._table, self._mask
        at = hash(text) & mask
        while (found := table[at]) != digits:
            if not found:
                table[at] = digits
                return True
            at = (at + 1) & mask  # the next slot: the table is never full
        return False


# The alphabets a caller may ask for, and be told that a text did not fit them.
_ALPHABETS_ASKED = (SmsLang.ENGLISH, SmsLang.TURKISH)


class _NotedTexts:
    """What the warnings of a mixed group name, noted as its texts are first measured: the
    first text (by its first recipient) that went as Unicode against the alphabet asked for,
    the first a transliteration changed, and how many distinct texts did each. Texts are
    told apart by their hashes: a file's million texts are not kept twice."""

    def __init__(self, lang: SmsLang) -> None:
        self.lang = lang
        self.wide: tuple[str, str, Encoding] | None = None
        self.changed: tuple[str, str, Encoding] | None = None
        self._wide: set[int] = set()
        self._changed: set[int] = set()

    def add(self, position: int, text: str, encoding: Encoding) -> None:
        if _went_wide(self.lang, encoding) and hash(text) not in self._wide:
            self._wide.add(hash(text))
            self.wide = self.wide or (f"text[{position}]", text, encoding)
        if encoding.transliterated and hash(text) not in self._changed:
            self._changed.add(hash(text))
            self.changed = self.changed or (f"text[{position}]", text, encoding)

    def warnings(self) -> list[FieldWarning]:
        return _warnings(
            self.lang, self.wide, len(self._wide), self.changed, len(self._changed), "sms_lang"
        )


def encoding_warnings(
    lang: SmsLang,
    measured: Sequence[tuple[str, Encoding]],
    fields: Sequence[str] | None = None,
    lang_field: str = "sms_lang",
) -> list[FieldWarning]:
    """What the caller should know of how its texts go out: one that asked for a GSM alphabet
    but went as Unicode (and costs more segments), and letters a transliteration changed. One
    warning of each kind, naming the first text it concerns and how many others it does."""
    if lang not in _ALPHABETS_ASKED:
        return []  # Unicode and "auto" ask for no alphabet: whatever they take is no surprise
    fields = fields or ["text"] * len(measured)
    wide = [(f, t, e) for f, (t, e) in zip(fields, measured, strict=True) if _went_wide(lang, e)]
    changed = [(f, t, e) for f, (t, e) in zip(fields, measured, strict=True) if e.transliterated]
    return _warnings(
        lang, wide[0] if wide else None, len(wide), changed[0] if changed else None,
        len(changed), lang_field,
    )  # fmt: skip


def _warnings(
    lang: SmsLang,
    wide: tuple[str, str, Encoding] | None,
    wide_count: int,
    changed: tuple[str, str, Encoding] | None,
    changed_count: int,
    lang_field: str,
) -> list[FieldWarning]:
    """The warnings of ``encoding_warnings``: ``wide`` and ``changed`` are the first text
    (field, text, encoding) of each kind, of ``wide_count`` and ``changed_count``."""
    warnings: list[FieldWarning] = []
    if wide is not None:
        where, given, encoding = wide
        chars = ", ".join(quoted(c) for c in uncarried(given, lang)[:5])
        carried = f" ({chars})" if chars else ""
        warnings.append(
            FieldWarning(
                lang_field,
                f"{lang_field} {lang.value} ({lang.label}) was asked for, but {where} has"
                f" characters GSM 7-bit cannot carry{carried}: it goes as Unicode,"
                f" {_segments(encoding.segments)}{_others(wide_count - 1)}",
            )
        )
    if changed is not None:
        where, given, encoding = changed
        assert encoding.transliterated is not None
        pairs = replaced_letters(given, encoding.transliterated)
        shown = ", ".join(f"{quoted(a)}→{quoted(b)}" for a, b in pairs[:8])
        warnings.append(
            FieldWarning(
                where,
                f"{lang_field} {lang.value} ({lang.label}) writes Turkish letters in Latin ones:"
                f" {shown}; send {lang_field} 1 (Turkish) or 'auto' to keep them"
                f"{_others(changed_count - 1)}",
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
