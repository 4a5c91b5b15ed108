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
from functools import partial
from typing import Any, NamedTuple

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti import codes
from ileti.api.endpoint import Context, Reply
from ileti.batching import Batcher
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
from ileti.metrics import OTP_REFUSED
from ileti.store import idempotency
from ileti.store import otp as otp_store
from ileti.store.db import Database
from ileti.store.ledger import Balance, InsufficientBalance
from ileti.store.messages import (
    NewMessage,
    Stored,
    Submission,
    blacklisted,
    international_switches,
    store_many,
    title_statuses,
)
from ileti.store.prices import country_prices

CONTENT_TYPES = {0: "Transactional", 1: "High Quality", 2: "Advertising"}
ADVERTISING = 2
MAX_RECIPIENTS = 100_000
# Identical requests (same key, path and body) within this window get the first answer.
REPEAT_WINDOW_MS = 120_000
# An Idempotency-Key header holds this long.
IDEMPOTENCY_KEY_MS = 24 * 3600 * 1000
DEFAULT_VALIDITY_MINUTES = 1440


class Recipient(NamedTuple):
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


@dataclass(frozen=True, slots=True)
class OtpOrder:
    """What an OTP request adds to its message: the OTP's row, made before it is stored."""

    otp_id: str
    code: str
    code_hash: str
    masked_text: str
    expires_at: datetime
    attempts: int
    code_in_response: bool


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
    otp: OtpOrder | None = None


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


@dataclass(frozen=True)
class SendRequest:
    """An order with what identifies it for idempotency."""

    ctx: Context
    order: Order
    fingerprint: str
    request_hash: str
    keep_ms: int

    @property
    def account_id(self) -> int:
        return self.ctx.caller.account_id

    @property
    def key_id(self) -> int:
        return self.ctx.caller.key.id


async def accept(ctx: Context, order: Order, path: str, body: dict[str, Any]) -> Reply:
    """Store, pay for and queue ``order``; the reply for the client."""
    fingerprint, request_hash, keep_ms = fingerprints(ctx, path, body)
    request = SendRequest(ctx, order, fingerprint, request_hash, keep_ms)
    state = ctx.state
    if not order.grouped:
        # Single sends are stored in batches with their neighbours: a few statements and one
        # commit for many requests instead of a dozen statements and a commit each.
        batcher = state.send_batcher
        if batcher is None:
            batcher = state.send_batcher = Batcher(partial(_store_batch, state.db))
        outcome = await batcher.submit(request)
    else:
        outcome = (await _store_batch(state.db, [request]))[0]
    if isinstance(outcome, BaseException):
        raise outcome
    state.notify_queued(urgent=order.otp is not None)
    return outcome


async def _store_batch(db: Database, requests: list[SendRequest]) -> list[Reply | Exception]:
    """Store a batch in one transaction. If it collides with an identical request committed
    by another process meanwhile, each request is stored again on its own (and that one then
    answers from the other's kept response)."""
    # Single sends name their rows by short id lists, planned best for their values; a
    # group's lists of 100,000 numbers would cost more to plan than to run.
    batches = not requests[0].order.grouped
    try:
        async with db.write(urgent=True, batches=batches) as conn:
            return await store_requests(conn, requests, int(time.time() * 1000))
    except IntegrityError:
        if len(requests) == 1:
            async with db.write(urgent=True, batches=batches) as conn:
                return await store_requests(conn, requests, int(time.time() * 1000))
        return [(await _store_batch(db, [request]))[0] for request in requests]


async def store_requests(
    conn: AsyncConnection, requests: list[SendRequest], now_ms: int
) -> list[Reply | Exception]:
    """Replies (or refusals) for ``requests``, all stored in the caller's transaction."""
    outcomes: list[Reply | Exception | None] = [None] * len(requests)
    kept = await idempotency.find_many(conn, [(r.key_id, r.fingerprint) for r in requests], now_ms)
    first_of: dict[tuple[int, str], int] = {}
    fresh: list[int] = []
    for index, request in enumerate(requests):
        identity = (request.key_id, request.fingerprint)
        if identity in kept:
            outcomes[index] = _replay(kept[identity], request.request_hash)
        elif identity not in first_of:
            first_of[identity] = index
            fresh.append(index)
    facts = await Facts.read(conn, [requests[i] for i in fresh])
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    planned: list[tuple[int, Submission, list[Rejection]]] = []
    for index in fresh:
        try:
            submission, rejected = _plan(requests[index], facts, now)
        except GatewayError as error:
            outcomes[index] = error
        else:
            planned.append((index, submission, rejected))
    stored = await store_many(conn, [submission for _, submission, _ in planned])
    to_keep: list[tuple[int, str, idempotency.KeptResponse, int]] = []
    new_otps: list[otp_store.NewOtp] = []
    for (index, submission, rejected), result in zip(planned, stored, strict=True):
        if isinstance(result, InsufficientBalance):
            outcomes[index] = GatewayError(codes.INSUFFICIENT_BALANCE)
            continue
        request = requests[index]
        reply = _reply(request.order, submission, result, rejected)
        kept_fields = reply.fields
        if request.order.otp is not None:
            otp = request.order.otp
            new_otps.append(_new_otp(request, result, now_ms))
            reply.fields["otp_id"] = otp.otp_id
            reply.fields["expires_at"] = _iso(otp.expires_at)
            # The code goes to the caller once; a repeat of the request gets the rest.
            kept_fields = dict(reply.fields)
            if otp.code_in_response:
                reply.fields["otp_code"] = otp.code
        outcomes[index] = reply
        to_keep.append(
            (
                request.key_id,
                request.fingerprint,
                idempotency.KeptResponse(request.request_hash, reply.result.code, kept_fields),
                request.keep_ms,
            )
        )
    await otp_store.add(conn, new_otps)
    await idempotency.keep_many(conn, to_keep, now_ms)
    # A repeat inside the batch gets what the first of its kind got.
    done: list[Reply | Exception] = []
    for index, request in enumerate(requests):
        outcome = outcomes[index]
        if outcome is None:
            first = first_of[(request.key_id, request.fingerprint)]
            outcome = outcomes[first]
            if requests[first].request_hash != request.request_hash:
                outcome = invalid("Idempotency-Key", "was used before with a different request")
        assert outcome is not None
        done.append(outcome)
    return done


def _new_otp(request: SendRequest, stored: Stored, now_ms: int) -> otp_store.NewOtp:
    otp = request.order.otp
    assert otp is not None
    recipient = request.order.recipients[0]
    return otp_store.NewOtp(
        id=otp.otp_id,
        account_id=request.account_id,
        key_id=request.key_id,
        message_id=stored.message_ids[0],
        sentto=recipient.number.digits,
        region=recipient.number.region,
        code_hash=otp.code_hash,
        masked_text=otp.masked_text,
        created_ms=now_ms,
        expires_ms=int(otp.expires_at.timestamp() * 1000),
        attempts=otp.attempts,
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _replay(kept: idempotency.KeptResponse, request_hash: str) -> Reply | Exception:
    if kept.request_hash != request_hash:
        return invalid("Idempotency-Key", "was used before with a different request")
    return Reply(codes.CATALOGUE[kept.code], dict(kept.fields))


@dataclass
class Facts:
    """What the checks of a batch need from the database, read with one query each."""

    titles: dict[tuple[int, str], str]
    blocked: set[tuple[int, str, str]]  # (account, number, scope)
    international: dict[int, bool]
    prices: dict[str, int]
    # OTPs of the past hour, for the abuse limits (counted on as a batch accepts more).
    recent_otps: otp_store.RecentOtps | None = None

    @classmethod
    async def read(cls, conn: AsyncConnection, requests: list[SendRequest]) -> Facts:
        account_ids = {r.account_id for r in requests}
        titles = await title_statuses(conn, account_ids, {r.order.title for r in requests})
        numbers = {rec.number.digits for r in requests for rec in r.order.recipients}
        blocked = await blacklisted(conn, account_ids, numbers)
        international = await international_switches(conn, account_ids)
        abroad = any(not rec.number.domestic for r in requests for rec in r.order.recipients)
        prices = await country_prices(conn) if abroad else {}
        otps = [r for r in requests if r.order.otp is not None]
        recent = None
        if otps:
            await otp_store.lock_accounts(conn, {r.account_id for r in otps})
            recent = await otp_store.recent(
                conn,
                {(r.account_id, rec.number.digits) for r in otps for rec in r.order.recipients},
                {(r.account_id, rec.number.region) for r in otps for rec in r.order.recipients},
                int(time.time() * 1000),
            )
        return cls(titles, blocked, international, prices, recent)

    def is_blocked(self, account_id: int, number: str, advertising: bool) -> bool:
        if (account_id, number, "all") in self.blocked:
            return True
        return advertising and (account_id, number, "advertising") in self.blocked


def _plan(request: SendRequest, facts: Facts, now: datetime) -> tuple[Submission, list[Rejection]]:
    """The submission for a request, or the GatewayError that refuses it."""
    order, account_id = request.order, request.account_id
    status = facts.titles.get((account_id, order.title))
    if status is None:
        raise GatewayError(codes.TITLE_UNKNOWN)
    if status != "active":
        raise GatewayError(codes.TITLE_INACTIVE)
    if order.otp is not None:
        _check_otp_limits(request, facts, now)
    rejected = list(order.rejected)
    accepted: list[NewMessage] = []
    advertising = order.content_type == ADVERTISING
    international = facts.international.get(account_id, False)
    lang = str(order.lang.value)
    # What recipients of one country and length share: worked out once per request.
    tariffs: dict[tuple[str, int, bool], tuple[int, Balance, str]] = {}
    for r in order.recipients:
        number, encoding = r.number, r.encoding
        if facts.blocked and facts.is_blocked(account_id, number.digits, advertising):
            rejected.append(Rejection(r.index, r.raw, codes.BLACKLISTED))
            continue
        domestic = number.domestic
        if not domestic and not international:
            rejected.append(Rejection(r.index, r.raw, codes.INTERNATIONAL_DISABLED))
            continue
        tariff = (number.region, encoding.segments, domestic)
        shared = tariffs.get(tariff)
        if shared is None:
            price = price_of(*tariff, facts.prices)
            shared = tariffs[tariff] = (price.amount, Balance(price.balance), number.country)
        cost, balance, country = shared
        accepted.append(
            NewMessage(
                number.digits,
                country,
                number.operator,
                encoding.transliterated or r.text,
                encoding.label,
                lang,
                encoding.segments,
                cost,
                balance,
            )
        )
    if not accepted:
        first = min(rejected, key=lambda x: x.index)
        if not order.grouped:
            raise GatewayError(first.result)
        raise GatewayError(
            first.result,
            "No recipient could be accepted.",
            errors=[
                {"field": f"sentto[{x.index}]", "message": x.result.code} for x in rejected[:100]
            ],
        )
    submission = Submission(
        account_id=account_id,
        key_id=request.key_id,
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
    )
    return submission, rejected


def _check_otp_limits(request: SendRequest, facts: Facts, now: datetime) -> None:
    """Refuse an OTP over the hourly limits (SMS pumping); count it in when it passes."""
    assert facts.recent_otps is not None
    settings = request.ctx.state.settings
    account_id = request.account_id
    number = request.order.recipients[0].number
    now_ms = int(now.timestamp() * 1000)
    checks = (
        ("number", facts.recent_otps.per_number, (account_id, number.digits),
         settings.otp_per_number_hour, "to one number"),
        ("country", facts.recent_otps.per_region, (account_id, number.region),
         settings.otp_per_country_hour, f"to {number.country_name}"),
    )  # fmt: skip
    for reason, counts, identity, limit, where in checks:
        count, oldest = counts.get(identity, (0, now_ms))
        if limit and count >= limit:
            OTP_REFUSED.labels(reason).inc()
            wait = max(1, (oldest + otp_store.HOUR_MS - now_ms + 999) // 1000)
            raise GatewayError(
                codes.RATE_LIMITED,
                f"At most {limit} OTPs an hour {where}; try again in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
    for _, counts, identity, _, _ in checks:
        count, oldest = counts.get(identity, (0, now_ms))
        counts[identity] = (count + 1, oldest)


def _reply(
    order: Order, submission: Submission, stored: Stored, rejected: list[Rejection]
) -> Reply:
    accepted = submission.messages
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
