"""What a send asks for, and the order it becomes once checked as far as it can be without the
database: numbers normalised, texts encoded and measured, the schedule worked out.

The checks run in the order the contract's clients know from the API (a missing number is told
before an empty text, both before a bad schedule), whichever door the send came in by.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from ileti import codes
from ileti.codes import GatewayError, ResultCode
from ileti.domain import priority
from ileti.domain.encoding import Encoding, MessageTooLong, SmsLang, measure
from ileti.domain.numbers import InvalidNumber, PhoneNumber, normalise
from ileti.domain.schedule import InvalidSchedule, due_time
from ileti.validation import content_type, invalid, phone_number, sms_lang

MAX_RECIPIENTS = 100_000
DEFAULT_VALIDITY_MINUTES = 1440


@dataclass(frozen=True, slots=True)
class Schedule:
    """When to send: now, or at a Europe/Istanbul date and time; valid for so long after."""

    scheduled: object = None  # 1 (or "1", True): at date and time; 0 or None: now
    date: str | None = None  # YYYY-MM-DD
    time: str | None = None  # HH:MM
    validity_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class SingleSend:
    """One text to one number."""

    title: str | None
    text: str | None
    number: object
    sms_lang: object = None
    content_type: int | None = None
    schedule: Schedule = Schedule()


@dataclass(frozen=True, slots=True)
class GroupSend:
    """One text to many numbers (``texts`` None), or each number its own text."""

    title: str | None
    numbers: Sequence[object] | None
    text: str | None = None
    texts: Sequence[str] | None = None
    sms_lang: object = None
    content_type: int | None = None
    schedule: Schedule = Schedule()


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
    rejected: list[Rejection] = field(default_factory=list)
    total: int = 1
    grouped: bool = False
    otp: OtpOrder | None = None


def single_order(send: SingleSend, max_segments: int, now: datetime) -> Order:
    if send.number is None or send.number == "":
        raise GatewayError(codes.NUMBER_MISSING)
    if not send.text:
        raise GatewayError(codes.TEXT_EMPTY)
    title = required_title(send.title)
    lang = sms_lang(send.sms_lang)
    number = phone_number(send.number, "sentto")
    encoding = encode(send.text, lang, max_segments)
    recipient = Recipient(0, str(send.number)[:32], number, send.text, encoding)
    return _order(send, now, "single", title, lang, [recipient])


def group_order(send: GroupSend, max_segments: int, now: datetime) -> Order:
    numbers = send.numbers
    if not numbers:
        raise GatewayError(codes.NUMBER_MISSING)
    if len(numbers) > MAX_RECIPIENTS:
        raise GatewayError(
            codes.TOO_MANY_RECIPIENTS,
            f"{len(numbers):,} recipients; at most {MAX_RECIPIENTS:,} a request.",
        )
    if send.texts is None:
        if not send.text:
            raise GatewayError(codes.TEXT_EMPTY)
        texts: Sequence[str] = [send.text] * len(numbers)
    else:
        texts = send.texts
        if len(texts) != len(numbers):
            raise GatewayError(codes.MIXED_LENGTH_MISMATCH)
        if not all(texts):
            raise GatewayError(codes.TEXT_EMPTY, "Every text must be non-empty.")
    title = required_title(send.title)
    lang = sms_lang(send.sms_lang)
    recipients, rejected = recipients_of(numbers, texts, lang, max_segments)
    return _order(send, now, "group", title, lang, recipients, rejected, len(numbers))


def _order(
    send: SingleSend | GroupSend,
    now: datetime,
    kind: str,
    title: str,
    lang: SmsLang,
    recipients: list[Recipient],
    rejected: list[Rejection] | None = None,
    total: int = 1,
) -> Order:
    """The order, once its schedule and content type are checked too."""
    due, expires = schedule(send.schedule, now)
    grouped = kind == "group"
    return Order(
        kind=kind,
        title=title,
        content_type=content_type(send.content_type),
        lang=lang,
        priority=priority.BULK if grouped else priority.SINGLE,
        due_at=due,
        expires_at=expires,
        recipients=recipients,
        rejected=rejected or [],
        total=total,
        grouped=grouped,
    )


def required_title(title: str | None) -> str:
    if not title:
        raise invalid("title", "is required")
    return title


def schedule(given: Schedule, now: datetime) -> tuple[datetime, datetime]:
    """(due, expires): validity runs from the due time."""
    scheduled = given.scheduled
    wanted = scheduled in (1, "1", True)
    if scheduled not in (None, 0, "0", False) and not wanted:
        raise GatewayError(codes.INVALID_SCHEDULE, "scheduled_sms is 1 or 0.")
    try:
        due = due_time(wanted, given.date, given.time, now)
    except InvalidSchedule as exc:
        raise GatewayError(codes.INVALID_SCHEDULE, f"{exc}.") from None
    minutes = DEFAULT_VALIDITY_MINUTES if given.validity_minutes is None else given.validity_minutes
    return due, due + timedelta(minutes=minutes)


def encode(text: str, lang: SmsLang, max_segments: int) -> Encoding:
    try:
        return measure(text, lang, max_segments)
    except MessageTooLong as exc:
        raise GatewayError(
            codes.TOO_LONG, f"The message takes {exc.segments} segments; the cap is {exc.cap}."
        ) from None


def recipients_of(
    numbers: Sequence[object], texts: Sequence[str], lang: SmsLang, max_segments: int
) -> tuple[list[Recipient], list[Rejection]]:
    """Normalise, deduplicate and encode every recipient; invalid ones become rejections."""
    accepted: list[Recipient] = []
    rejected: list[Rejection] = []
    seen: set[str] = set()
    encodings: dict[str, Encoding] = {}
    for index, (raw, text) in enumerate(zip(numbers, texts, strict=True)):
        shown = str(raw)[:32]
        number = _number_or_none(raw)
        if number is None:
            rejected.append(Rejection(index, shown, codes.INVALID_NUMBER))
            continue
        if number.digits in seen:
            rejected.append(Rejection(index, shown, codes.INVALID_FIELD))
            continue
        seen.add(number.digits)
        encoding = encodings.get(text)
        if encoding is None:
            encoding = encodings[text] = encode(text, lang, max_segments)
        accepted.append(Recipient(index, shown, number, text, encoding))
    return accepted, rejected


def _number_or_none(raw: object) -> PhoneNumber | None:
    # A group's invalid numbers are rejections, not errors: no exception built for each.
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return None
    try:
        return normalise(str(raw))
    except InvalidNumber:
        return None
