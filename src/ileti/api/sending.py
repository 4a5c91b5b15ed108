"""From a validated request to stored, paid and queued messages.

The checks that need no database run first (numbers, encoding, schedule); then one write
transaction checks the title and the blacklist, prices, debits, stores and queues, and keeps the
answer for identical repeats. A refusal anywhere raises a ``GatewayError`` and writes nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti import codes
from ileti.api.endpoint import Context, Reply
from ileti.codes import GatewayError, ResultCode
from ileti.domain.encoding import (
    Encoding,
    InvalidSmsLang,
    MessageTooLong,
    SmsLang,
    measure,
    parse_sms_lang,
)
from ileti.domain.numbers import InvalidNumber, PhoneNumber, normalise
from ileti.domain.pricing import price_of
from ileti.domain.schedule import InvalidSchedule, due_time
from ileti.store import idempotency
from ileti.store.accounts import get_account
from ileti.store.ledger import Balance, InsufficientBalance
from ileti.store.messages import NewMessage, Submission, blacklisted_numbers, store, title_status
from ileti.store.prices import country_prices

CONTENT_TYPES = {0: "Transactional", 1: "High Quality", 2: "Advertising"}
ADVERTISING = 2
MAX_RECIPIENTS = 100_000
# Identical requests (same key, path and body) within this window get the first answer.
REPEAT_WINDOW_MS = 120_000
# An Idempotency-Key header holds this long.
IDEMPOTENCY_KEY_MS = 24 * 3600 * 1000
DEFAULT_VALIDITY_MINUTES = 1440


@dataclass(frozen=True, slots=True)
class Recipient:
    index: int
    raw: str
    number: PhoneNumber
    text: str
    encoding: Encoding


@dataclass
class Rejection:
    index: int
    sentto: str
    result: ResultCode

    def as_dict(self) -> dict[str, object]:
        return {"index": self.index, "sentto": self.sentto, "result_code": self.result.code}


@dataclass
class Order:
    """What a send request asks for, checked as far as it can be without the database."""

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


def invalid(field_name: str, message: str) -> GatewayError:
    return GatewayError(
        codes.INVALID_FIELD,
        f"Invalid field {field_name}: {message}.",
        errors=[{"field": field_name, "message": message}],
    )


def parse_lang(value: object) -> SmsLang:
    if value is None:
        return SmsLang.UNICODE
    try:
        return parse_sms_lang(value)
    except InvalidSmsLang:
        raise invalid("sms_lang", "must be 0, 1, 2 or 'auto'") from None


def parse_content_type(value: int | None) -> int:
    if value is None:
        return 0
    if value not in CONTENT_TYPES:
        raise invalid("content_type", "must be 0, 1 or 2")
    return value


def schedule(
    scheduled: object, date: str | None, time_of_day: str | None, validity_minutes: int | None
) -> tuple[datetime, datetime]:
    """(due, expires): validity runs from the due time."""
    wanted = scheduled in (1, "1", True)
    if scheduled not in (None, 0, "0", False) and not wanted:
        raise GatewayError(codes.INVALID_SCHEDULE, "scheduled_sms is 1 or 0.")
    try:
        due = due_time(wanted, date, time_of_day)
    except InvalidSchedule as exc:
        raise GatewayError(codes.INVALID_SCHEDULE, f"{exc}.") from None
    minutes = DEFAULT_VALIDITY_MINUTES if validity_minutes is None else validity_minutes
    return due, due + timedelta(minutes=minutes)


def encode(text: str, lang: SmsLang, max_segments: int) -> Encoding:
    try:
        return measure(text, lang, max_segments)
    except MessageTooLong as exc:
        raise GatewayError(
            codes.TOO_LONG, f"The message takes {exc.segments} segments; the cap is {exc.cap}."
        ) from None


def number_of(raw: object) -> PhoneNumber:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise GatewayError(codes.INVALID_NUMBER)
    try:
        return normalise(str(raw))
    except InvalidNumber:
        raise GatewayError(
            codes.INVALID_NUMBER, f"Invalid phone number: {str(raw)[:32]}."
        ) from None


def fingerprints(ctx: Context, path: str, body: dict[str, Any]) -> tuple[str, str, int]:
    """(fingerprint, request hash, time to keep): an Idempotency-Key, else the body itself."""
    canonical = orjson.dumps(
        {k: v for k, v in body.items() if k != "api_key"}, option=orjson.OPT_SORT_KEYS
    )
    request_hash = hashlib.sha256(path.encode() + b"\0" + canonical).hexdigest()
    given = ctx.request.headers.get("idempotency-key")
    if given is not None:
        if not 1 <= len(given) <= 255:
            raise invalid("Idempotency-Key", "must have 1 to 255 characters")
        return (
            hashlib.sha256(b"key\0" + given.encode()).hexdigest(),
            request_hash,
            (IDEMPOTENCY_KEY_MS),
        )
    return request_hash, request_hash, REPEAT_WINDOW_MS


async def accept(ctx: Context, order: Order, path: str, body: dict[str, Any]) -> Reply:
    """Store, pay for and queue ``order``; the reply for the client."""
    fingerprint, request_hash, keep_ms = fingerprints(ctx, path, body)
    caller = ctx.caller
    state = ctx.state
    for attempt in range(2):
        now_ms = int(time.time() * 1000)
        try:
            async with state.db.write() as conn:
                kept = await idempotency.find(conn, caller.key.id, fingerprint, now_ms)
                if kept is not None:
                    return _replay(kept, request_hash)
                reply = await _store(conn, ctx, order)
                await idempotency.keep(
                    conn,
                    caller.key.id,
                    fingerprint,
                    idempotency.KeptResponse(request_hash, reply.result.code, reply.fields),
                    reply.result.http_status,
                    now_ms,
                    keep_ms,
                )
        except IntegrityError:
            # An identical request committed first; answer from its kept response.
            if attempt:
                raise
            continue
        state.authenticator.forget_account(caller.account_id)
        state.notify_queued()
        return reply
    raise AssertionError("unreachable")


def _replay(kept: idempotency.KeptResponse, request_hash: str) -> Reply:
    if kept.request_hash != request_hash:
        raise invalid("Idempotency-Key", "was used before with a different request")
    return Reply(codes.CATALOGUE[kept.code], dict(kept.fields))


async def _store(conn: AsyncConnection, ctx: Context, order: Order) -> Reply:
    account_id = ctx.caller.account_id
    status = await title_status(conn, account_id, order.title)
    if status is None:
        raise GatewayError(codes.TITLE_UNKNOWN)
    if status != "active":
        raise GatewayError(codes.TITLE_INACTIVE)
    recipients, rejected = list(order.recipients), list(order.rejected)
    blocked = await blacklisted_numbers(
        conn,
        account_id,
        (r.number.digits for r in recipients),
        advertising=order.content_type == ADVERTISING,
    )
    international_allowed = await _international_allowed(conn, account_id)
    prices = await country_prices(conn)
    accepted: list[NewMessage] = []
    for r in recipients:
        if r.number.digits in blocked:
            rejected.append(Rejection(r.index, r.raw, codes.BLACKLISTED))
            continue
        if not r.number.domestic and not international_allowed:
            rejected.append(Rejection(r.index, r.raw, codes.INTERNATIONAL_DISABLED))
            continue
        price = price_of(r.number.region, r.encoding.segments, r.number.domestic, prices)
        accepted.append(
            NewMessage(
                sentto=r.number.digits,
                country=r.number.country,
                operator=r.number.operator,
                text=r.encoding.transliterated or r.text,
                sms_lang=r.encoding.label,
                lang=str(order.lang.value),
                segments=r.encoding.segments,
                cost=price.amount,
                cost_balance=Balance(price.balance),
            )
        )
    if not accepted:
        first = min(rejected, key=lambda x: x.index)
        raise GatewayError(
            first.result,
            "No recipient could be accepted." if order.grouped else None,
            errors=[
                {"field": f"sentto[{x.index}]", "message": x.result.code} for x in rejected[:100]
            ]
            if order.grouped
            else None,
        )
    now = datetime.now(UTC)
    try:
        stored = await store(
            conn,
            Submission(
                account_id=account_id,
                key_id=ctx.caller.key.id,
                title=order.title,
                kind=order.kind,
                content_type=order.content_type,
                priority=order.priority,
                created_at=now,
                due_at=order.due_at,
                expires_at=order.expires_at,
                messages=accepted,
                grouped=order.grouped,
                total_recipients=order.total,
            ),
        )
    except InsufficientBalance:
        raise GatewayError(codes.INSUFFICIENT_BALANCE) from None
    first = accepted[0]
    fields: dict[str, object] = {
        "sms_id": stored.group_id if stored.group_id is not None else stored.message_ids[0],
        "number_of_sms": sum(m.segments for m in accepted),
        "total_recipients": order.total,
        "success_count": len(accepted),
        "sms_lang": first.sms_lang,
        "content_type": CONTENT_TYPES[order.content_type],
        "country": first.country,
    }
    if order.grouped:
        fields["group_id"] = stored.group_id
        fields["rejected"] = [x.as_dict() for x in sorted(rejected, key=lambda x: x.index)]
    return Reply(codes.SMS_ACCEPTED, fields)


async def _international_allowed(conn: AsyncConnection, account_id: int) -> bool:
    return (await get_account(conn, account_id)).international_enabled


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
        try:
            number = number_of(raw)
        except GatewayError:
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
