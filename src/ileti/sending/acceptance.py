"""One write transaction for a batch of orders: the title, blacklist and switch checks, the
OTP limits, prices, the debit, the rows and queue entries, and the answers kept for repeats.

A refusal of one order (its title, its balance, its limits) leaves the others to commit; a
refused order writes nothing and costs nothing. A group's plan is which of its recipients'
rows go (a range when all do) and what they cost; its messages are made from those columns a
slice at a time, as they are debited and written.
"""

from __future__ import annotations

import asyncio
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import islice
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti import codes
from ileti.codes import GatewayError, ResultCode
from ileti.domain.clock import from_ms, to_ms
from ileti.domain.pricing import Balance, price_of
from ileti.metrics import OTP_REFUSED
from ileti.sending.identity import RequestIdentity
from ileti.sending.orders import Order, Recipient, Recipients, Rejection, Rejections
from ileti.sending.refusals import insufficient, unknown_title
from ileti.sending.results import Accepted
from ileti.store import consents, idempotency
from ileti.store import otp as otp_store
from ileti.store.ledger import InsufficientBalance
from ileti.store.messages import (
    BLACKLIST_LOOKUP,
    MadeMessages,
    NewMessage,
    Stored,
    Submission,
    account_titles,
    blacklisted,
    store_many,
    switches_and_titles,
)
from ileti.store.prices import prices_for
from ileti.validation import ADVERTISING, CONTENT_TYPES, invalid

# Recipients a group's plan looks at before the event loop serves others again.
_RECIPIENTS_AT_ONCE = 2_000
# Numbers named in one look-up of İYS consents.
_CONSENTS_AT_ONCE = 50_000


@dataclass(frozen=True, slots=True)
class SendRequest:
    """An order, whose it is, and what identifies it for repeats."""

    account_id: int
    key_id: int
    order: Order
    identity: RequestIdentity


@dataclass(frozen=True, slots=True)
class OtpLimits:
    """OTPs an account may send in an hour to one number and to one country (0: no ceiling)."""

    per_number: int
    per_country: int


async def accept_batch(
    conn: AsyncConnection, requests: list[SendRequest], now_ms: int, limits: OtpLimits
) -> list[Accepted | GatewayError]:
    """Answers (or refusals) for ``requests``, all stored in the caller's transaction."""
    outcomes: list[Accepted | GatewayError | None] = [None] * len(requests)
    kept = await idempotency.find_many(
        conn, [(r.key_id, r.identity.fingerprint) for r in requests], now_ms
    )
    first_of: dict[tuple[int, str], int] = {}
    fresh: list[int] = []
    for index, request in enumerate(requests):
        named = (request.key_id, request.identity.fingerprint)
        if named in kept:
            outcomes[index] = _replay(kept[named], request.identity.request_hash)
        elif named not in first_of:
            first_of[named] = index
            fresh.append(index)
    facts = await Facts.read(conn, [requests[i] for i in fresh], now_ms)
    now = from_ms(now_ms)
    planned: list[tuple[int, Submission, Rejections]] = []
    for index in fresh:
        try:
            submission, rejected = await _plan(requests[index], facts, now, limits)
        except GatewayError as error:
            outcomes[index] = error
        else:
            planned.append((index, submission, rejected))
    stored = await store_many(conn, [submission for _, submission, _ in planned], now)
    to_keep: list[tuple[int, str, idempotency.KeptResponse, int]] = []
    new_otps: list[otp_store.NewOtp] = []
    for (index, submission, rejected), result in zip(planned, stored, strict=True):
        if isinstance(result, InsufficientBalance):
            outcomes[index] = insufficient(result.balance, result.needed, result.available)
            continue
        request = requests[index]
        accepted = _accepted(request.order, submission, result, rejected)
        otp = request.order.otp
        if otp is not None:
            new_otps.append(_new_otp(request, result, now_ms))
        outcomes[index] = accepted
        # The code goes to the caller once; a repeat of the request gets the rest.
        kept_fields = accepted.fields()
        if otp is not None and otp.code_in_response:
            outcomes[index] = replace(accepted, otp_code=otp.code)
        identity = request.identity
        to_keep.append(
            (
                request.key_id,
                identity.fingerprint,
                idempotency.KeptResponse(
                    identity.request_hash, codes.SMS_ACCEPTED.code, kept_fields
                ),
                identity.keep_ms,
            )
        )
    await otp_store.add(conn, new_otps)
    await idempotency.keep_many(conn, to_keep, now_ms)
    # A repeat inside the batch gets what the first of its kind got.
    done: list[Accepted | GatewayError] = []
    for index, request in enumerate(requests):
        outcome = outcomes[index]
        if outcome is None:
            first = first_of[(request.key_id, request.identity.fingerprint)]
            outcome = outcomes[first]
            if requests[first].identity.request_hash != request.identity.request_hash:
                outcome = _reused_key()
        assert outcome is not None
        done.append(outcome)
    return done


async def kept_answer(
    conn: AsyncConnection, key_id: int, identity: RequestIdentity, now_ms: int
) -> Accepted | GatewayError | None:
    """The answer kept for an earlier request of this identity, if one is live: a repeat is
    answered so before anything about it is checked again."""
    named = (key_id, identity.fingerprint)
    kept = (await idempotency.find_many(conn, [named], now_ms)).get(named)
    return None if kept is None else _replay(kept, identity.request_hash)


def _reused_key() -> GatewayError:
    return invalid("Idempotency-Key", "was used before with a different request")


def _replay(kept: idempotency.KeptResponse, request_hash: str) -> Accepted | GatewayError:
    if kept.request_hash != request_hash:
        return _reused_key()
    return Accepted.from_fields(kept.fields)


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
        expires_ms=to_ms(otp.expires_at),
        attempts=otp.attempts,
    )


@dataclass
class Facts:
    """What the checks of a batch need from the database, read with one query each."""

    titles: dict[tuple[int, str], str]
    # Every title of an account that named one it does not have (for the refusal's words).
    owned_titles: dict[int, list[str]]
    blocked: set[tuple[int, str, str]]  # (account, number, scope)
    international: dict[int, bool]
    # Each account's prices abroad (a reseller's customer pays what its reseller set).
    prices: dict[int, dict[str, int]]
    # OTPs of the past hour, for the abuse limits (counted on as a batch accepts more).
    recent_otps: otp_store.RecentOtps | None = None
    # For accounts whose Advertising is checked against İYS: by (account, recipient type),
    # the Turkish numbers of the batch's Advertising orders that have no ONAY in force.
    unconsented: dict[tuple[int, str], set[str]] = field(default_factory=dict)

    @classmethod
    async def read(cls, conn: AsyncConnection, requests: list[SendRequest], now_ms: int) -> Facts:
        account_ids = {r.account_id for r in requests}
        international, titles = await switches_and_titles(
            conn, account_ids, {r.order.title for r in requests}
        )
        unknown = {r.account_id for r in requests if (r.account_id, r.order.title) not in titles}
        owned = await account_titles(conn, unknown) if unknown else {}
        blocked = await blacklisted(conn, account_ids, _named_numbers(requests))
        abroad = any(_abroad(r.order.recipients) for r in requests)
        prices = await prices_for(conn, account_ids) if abroad else {}
        otps = [r for r in requests if r.order.otp is not None]
        recent = None
        if otps:
            await otp_store.lock_accounts(conn, {r.account_id for r in otps})
            recent = await otp_store.recent(
                conn,
                {(r.account_id, rec.number.digits) for r in otps for rec in r.order.recipients},
                {(r.account_id, rec.number.region) for r in otps for rec in r.order.recipients},
                now_ms,
            )
        unconsented = await _unconsented(conn, requests)
        return cls(titles, owned, blocked, international, prices, recent, unconsented)

    def without_consent(self, order: Order, account_id: int) -> set[str] | None:
        """The numbers an Advertising order may not go to for want of consent, if its
        account's sends are checked (None: they are not, or it is no Advertising)."""
        if order.content_type != ADVERTISING:
            return None
        return self.unconsented.get((account_id, order.iys_recipient_type))

    def is_blocked(self, account_id: int, number: str, advertising: bool) -> bool:
        if (account_id, number, "all") in self.blocked:
            return True
        return advertising and (account_id, number, "advertising") in self.blocked


async def _plan(
    request: SendRequest, facts: Facts, now: datetime, limits: OtpLimits
) -> tuple[Submission, Rejections]:
    """The submission for a request, or the GatewayError that refuses it."""
    order, account_id = request.order, request.account_id
    status = facts.titles.get((account_id, order.title))
    if status is None:
        raise unknown_title(order.title, facts.owned_titles.get(account_id, ()))
    if status != "active":
        raise GatewayError(codes.TITLE_INACTIVE)
    if order.otp is not None:
        _check_otp_limits(request, facts, now, limits)
    checks = _Checks.of(facts, order, account_id)
    lang = str(order.lang.value)
    messages: Sequence[NewMessage]
    if isinstance(order.recipients, Recipients):
        prices = facts.prices.get(account_id, {})
        messages, segments, left_out = await _columns(order.recipients, checks, prices, lang)
    else:
        prices = facts.prices.get(account_id, {})
        messages, left_out = _one_by_one(order.recipients, checks, prices, lang)
        segments = sum(m.segments for m in messages)
    rejected = order.rejected.plus(left_out)
    if not messages:
        shown = rejected.first(100)
        if not order.grouped:
            raise GatewayError(shown[0].result)
        raise GatewayError(
            shown[0].result,
            "No recipient could be accepted.",
            errors=[{"field": f"sentto[{x.index}]", "message": x.result.code} for x in shown],
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
        messages=messages,
        grouped=order.grouped,
        total_recipients=order.total,
        segments=segments,
    )
    return submission, rejected


class _Checks(NamedTuple):
    """Why an order's recipient may be left out: blacklisted, without İYS consent, abroad
    without the switch (in that order). A tuple: made for every single send."""

    facts: Facts
    account_id: int
    advertising: bool
    no_consent: set[str] | None
    international: bool

    @classmethod
    def of(cls, facts: Facts, order: Order, account_id: int) -> _Checks:
        return cls(
            facts,
            account_id,
            order.content_type == ADVERTISING,
            facts.without_consent(order, account_id),
            facts.international.get(account_id, False),
        )

    @property
    def by_number(self) -> bool:
        """Whether a number's digits can refuse it (a blacklist, consents to check)."""
        return bool(self.facts.blocked or self.no_consent)

    def refusal(self, digits: str, domestic: bool) -> ResultCode | None:
        if self.facts.blocked and self.facts.is_blocked(self.account_id, digits, self.advertising):
            return codes.BLACKLISTED
        if self.no_consent and digits in self.no_consent:
            return codes.NO_CONSENT
        if not domestic and not self.international:
            return codes.INTERNATIONAL_DISABLED
        return None


def _one_by_one(
    recipients: Sequence[Recipient], checks: _Checks, prices: dict[str, int], lang: str
) -> tuple[list[NewMessage], list[Rejection]]:
    """The messages of a single send's (or an OTP's) recipients, and those left out."""
    made: list[NewMessage] = []
    left_out: list[Rejection] = []
    for r in recipients:
        number, encoding = r.number, r.encoding
        refusal = checks.refusal(number.digits, number.domestic)
        if refusal is not None:
            left_out.append(Rejection(r.position, r.raw, refusal))
            continue
        price = price_of(number.region, encoding.segments, number.domestic, prices)
        made.append(
            NewMessage(
                number.digits,
                number.country,
                number.operator,
                encoding.transliterated or r.text,
                encoding.label,
                lang,
                encoding.segments,
                price.amount,
                price.balance,
            )
        )
    return made, left_out


async def _columns(
    recipients: Recipients, checks: _Checks, prices: dict[str, int], lang: str
) -> tuple[MadeMessages, int, list[Rejection]]:
    """A group's messages (made when they are read), their segments, and the recipients left
    out."""
    kept, left_out = await _kept(recipients, checks)
    per_shape = [encoding.segments for encoding in recipients.shape_table]
    segments = sum(map(per_shape.__getitem__, map(recipients.shapes.__getitem__, kept)))
    return _messages(recipients, kept, prices, lang), segments, left_out


async def _kept(recipients: Recipients, checks: _Checks) -> tuple[Sequence[int], list[Rejection]]:
    """The rows of a group's recipients that go, and those left out."""
    if not checks.by_number and (checks.international or not recipients.abroad()):
        return range(len(recipients)), []  # the usual group: every row goes
    domestic = [place.domestic for place in recipients.place_table]
    digits, places = recipients.digits, recipients.places
    kept = array("I")
    left_out: list[Rejection] = []
    for row in range(len(recipients)):
        if row and not row % _RECIPIENTS_AT_ONCE:
            # A group's 100,000 recipients are looked at a slice at a time, others served between.
            await asyncio.sleep(0)
        refusal = checks.refusal(str(digits[row]), domestic[places[row]])
        if refusal is None:
            kept.append(row)
        else:
            left_out.append(Rejection(recipients.positions[row], recipients.raw(row), refusal))
    return kept, left_out


def _messages(
    recipients: Recipients, kept: Sequence[int], prices: dict[str, int], lang: str
) -> MadeMessages:
    """The messages of the rows kept, made when they are read."""
    # What recipients of one country and operator, and one encoding, share: worked out once.
    shared: dict[tuple[int, int], tuple[str, str | None, str, int, int, Balance]] = {}

    def tariff(place_at: int, shape_at: int) -> tuple[str, str | None, str, int, int, Balance]:
        number, encoding = recipients.place_table[place_at], recipients.shape_table[shape_at]
        price = price_of(number.region, encoding.segments, number.domestic, prices)
        made = (number.country, number.operator, encoding.label, encoding.segments)
        shared[place_at, shape_at] = (*made, price.amount, price.balance)
        return shared[place_at, shape_at]

    digits, places, shapes = recipients.digits, recipients.places, recipients.shapes

    def make(start: int, stop: int) -> list[NewMessage]:
        rows = kept[start:stop]
        made = []
        for row, text in zip(rows, recipients.texts(rows), strict=True):
            key = (places[row], shapes[row])
            country, operator, label, segments, cost, balance = shared.get(key) or tariff(*key)
            made.append(
                NewMessage(
                    str(digits[row]), country, operator, text, label, lang, segments, cost, balance
                )
            )
        return made

    def costs() -> dict[Balance, int]:
        totals: dict[Balance, int] = {}
        keys = zip(map(places.__getitem__, kept), map(shapes.__getitem__, kept), strict=True)
        rows_per_key = Counter(keys)
        for key, rows in rows_per_key.items():
            *_, cost, balance = shared.get(key) or tariff(*key)
            totals[balance] = totals.get(balance, 0) + cost * rows
        return totals

    return MadeMessages(len(kept), make, costs)


def _named_numbers(requests: list[SendRequest]) -> set[str] | None:
    """The numbers of a batch for a look-up of its blacklists; None when there are too many to
    name (a group), and the accounts' whole blacklists are read."""
    if sum(len(r.order.recipients) for r in requests) > BLACKLIST_LOOKUP:
        return None
    return {number for r in requests for number in _digits(r.order.recipients)}


def _digits(recipients: Sequence[Recipient]) -> Iterator[str]:
    if isinstance(recipients, Recipients):
        return recipients.digit_strings()
    return (r.number.digits for r in recipients)


def _domestic_digits(recipients: Sequence[Recipient]) -> Iterator[str]:
    if isinstance(recipients, Recipients):
        return recipients.domestic_digits()
    return (r.number.digits for r in recipients if r.number.domestic)


def _abroad(recipients: Sequence[Recipient]) -> bool:
    if isinstance(recipients, Recipients):
        return recipients.abroad()
    return any(not r.number.domestic for r in recipients)


async def _unconsented(
    conn: AsyncConnection, requests: list[SendRequest]
) -> dict[tuple[int, str], set[str]]:
    """For each account in ``enforce`` mode and recipient type its Advertising orders name,
    those of their Turkish numbers (İYS records no others) without an ONAY in force for the
    account's brand."""
    advertising = [r for r in requests if r.order.content_type == ADVERTISING]
    if not advertising:
        return {}
    brands = await consents.enforced(conn, {r.account_id for r in advertising})
    wanted: dict[tuple[int, str], list[Sequence[Recipient]]] = {}
    for r in advertising:
        if r.account_id in brands:
            wanted.setdefault((r.account_id, r.order.iys_recipient_type), []).append(
                r.order.recipients
            )
    return {
        (account_id, kind): await unconsented(
            conn,
            account_id,
            brands[account_id],
            kind,
            (number for recipients in orders for number in _domestic_digits(recipients)),
        )
        for (account_id, kind), orders in wanted.items()
    }


async def unconsented(
    conn: AsyncConnection, account_id: int, brand: str, kind: str, numbers: Iterable[str]
) -> set[str]:
    """Those of ``numbers`` (Turkish) without an ONAY in force for the brand, looked up a slice
    at a time: a million numbers are never one list. A number given twice is named twice."""
    missing: set[str] = set()
    numbers = iter(numbers)
    while chunk := list(islice(numbers, _CONSENTS_AT_ONCE)):
        missing |= await consents.unconsented(conn, account_id, brand, kind, chunk)
    return missing


def _check_otp_limits(request: SendRequest, facts: Facts, now: datetime, limits: OtpLimits) -> None:
    """Refuse an OTP over the hourly limits (SMS pumping); count it in when it passes."""
    assert facts.recent_otps is not None
    account_id = request.account_id
    number = request.order.recipients[0].number
    now_ms = to_ms(now)
    checks = (
        ("number", facts.recent_otps.per_number, (account_id, number.digits),
         limits.per_number, "to one number"),
        ("country", facts.recent_otps.per_region, (account_id, number.region),
         limits.per_country, f"to {number.country_name}"),
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


def _accepted(
    order: Order, submission: Submission, stored: Stored, rejected: Rejections
) -> Accepted:
    accepted = submission.messages
    first = accepted[0]
    otp = order.otp
    return Accepted(
        sms_id=stored.group_id if stored.group_id is not None else stored.message_ids[0],
        number_of_sms=submission.number_of_sms(),
        total_recipients=order.total,
        success_count=len(accepted),
        sms_lang=first.sms_lang,
        content_type=CONTENT_TYPES[order.content_type],
        country=first.country,
        group_id=stored.group_id if order.grouped else None,
        rejected=tuple(rejected.all()) if order.grouped else None,
        otp_id=otp.otp_id if otp is not None else None,
        expires_at=_iso_utc(otp.expires_at) if otp is not None else None,
        warnings=tuple(order.warnings),
    )


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
