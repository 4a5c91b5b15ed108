"""What a campaign would be, before anything is charged: the rows counted as the sending service
will count them (numbers that are none, repeats, blacklisted numbers, numbers abroad without the
international switch), each row's encoding and segments, the credits and kuruş it would cost,
the first personalised messages, and every row left out with its reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from ileti import codes
from ileti.campaigns.rows import Reject, Rows
from ileti.domain.encoding import Encoding
from ileti.domain.numbers import PhoneNumber, lookup
from ileti.domain.pricing import Balance, Price, price_of
from ileti.sending.orders import RecipientList, Recipients
from ileti.validation import quoted

SAMPLES = 20


@dataclass(frozen=True, slots=True)
class Sample:
    """A personalised message as it goes out."""

    line: int
    sentto: str
    text: str
    sms_lang: str  # English, Turkish or Unicode
    segments: int


@dataclass(frozen=True)
class Preview:
    upload_id: str
    file_name: str
    sheet: str | None
    sheets: list[str]
    columns: list[str]
    phone_column: str
    rows: int
    valid: int
    invalid: int  # no number, damaged, empty placeholder, too long, abroad without the switch
    duplicates: int
    blacklisted: int
    no_consent: int  # Advertising to numbers without an İYS ONAY, where the account enforces it
    segments: int  # of the valid recipients, in all
    credits: int  # from the main balance
    international_kurus: int  # from the international balance
    balance: int  # the main balance, in credits
    international_balance_kurus: int
    encodings: Mapping[str, int]  # valid recipients by how their message goes out
    samples: list[Sample]
    rejects: list[Reject]  # by line

    @property
    def affordable(self) -> bool:
        return (
            self.credits <= self.balance
            and self.international_kurus <= self.international_balance_kurus
        )


@dataclass(frozen=True)
class Account:
    """What the account pays with and refuses."""

    credits: int
    international_kurus: int
    international: bool
    blocked: set[tuple[int, str, str]]  # (account, number, scope) as the send reads them
    prices: Mapping[str, int]
    # Advertising to an account that enforces İYS: the numbers without an ONAY in force.
    unconsented: set[str] = field(default_factory=set)


@dataclass
class Tally:
    valid: int = 0
    segments: int = 0
    credits: int = 0
    kurus: int = 0
    encodings: Counter[str] = field(default_factory=Counter)
    samples: list[Sample] = field(default_factory=list)


def assess(
    rows: Rows,
    checked: RecipientList,
    account_id: int,
    account: Account,
    advertising: bool,
) -> tuple[Tally, list[Reject], int, int, int]:
    """The valid recipients' tally, every reject (by line), and the duplicates, blacklisted and
    unconsented counted apart."""
    lines = rows.lines
    rejects = list(rows.rejects)
    for position in checked.invalid:
        rejects.append(
            Reject(
                lines[position],
                quoted(rows.numbers[position]),
                "Not a phone number that can receive SMS.",
                codes.INVALID_NUMBER,
            )
        )
    accepted = checked.accepted
    if checked.repeated:
        _repeats(rows, checked, rejects)
    tally = Tally()
    blacklisted = no_consent = 0
    # What the recipients of one country and operator, and one encoding, share; in the order
    # of their first valid recipient.
    kinds: dict[tuple[int, int], _Kind] = {}
    counted: list[_Kind] = []
    for row, position in enumerate(accepted.positions):
        key = (accepted.places[row], accepted.shapes[row])
        kind = kinds.get(key) or kinds.setdefault(key, _kind(accepted, *key, account.prices))
        refusal = _refusal(accepted, row, kind, account_id, account, advertising)
        if refusal is not None:
            reason, result = refusal
            blacklisted += result is codes.BLACKLISTED
            no_consent += result is codes.NO_CONSENT
            rejects.append(Reject(lines[position], accepted.raw(row), reason, result))
            continue
        if not kind.count:
            counted.append(kind)
        kind.count += 1
        if len(tally.samples) < SAMPLES:
            tally.samples.append(
                Sample(
                    lines[position],
                    str(accepted.digits[row]),
                    accepted.text(row),
                    kind.encoding.label,
                    kind.encoding.segments,
                )
            )
    for kind in counted:
        _count(tally, kind)
    rejects.sort(key=lambda r: r.line)
    return tally, rejects, len(checked.repeated), blacklisted, no_consent


@dataclass
class _Kind:
    """Recipients of one country and operator whose texts go in one encoding, and how many of
    them are valid."""

    number: PhoneNumber  # without digits
    encoding: Encoding
    price: Price
    count: int = 0


def _kind(accepted: Recipients, place: int, shape: int, prices: Mapping[str, int]) -> _Kind:
    number, encoding = accepted.place_table[place], accepted.shape_table[shape]
    return _Kind(
        number, encoding, price_of(number.region, encoding.segments, number.domestic, prices)
    )


def _repeats(rows: Rows, checked: RecipientList, rejects: list[Reject]) -> None:
    # The repeats are read again to name the row they repeat: a few, as a rule.
    accepted = checked.accepted
    repeated: dict[int, list[int]] = {}  # digits → positions of the repeats
    for position in checked.repeated:
        found = lookup(rows.numbers[position])
        if not isinstance(found, str):
            repeated.setdefault(int(found.digits), []).append(position)
    first_line: dict[int, int] = {}
    for digits, position in zip(accepted.digits, accepted.positions, strict=True):
        if digits in repeated:
            first_line[digits] = rows.lines[position]
    for position in checked.repeated:
        raw = rows.numbers[position]
        found = lookup(raw)
        earlier = first_line.get(int(found.digits)) if not isinstance(found, str) else None
        where = f" as row {earlier}" if earlier is not None else " as an earlier row"
        rejects.append(
            Reject(
                rows.lines[position], quoted(raw), f"The same number{where}.", codes.INVALID_FIELD
            )
        )


def _refusal(
    accepted: Recipients,
    row: int,
    kind: _Kind,
    account_id: int,
    account: Account,
    advertising: bool,
) -> tuple[str, codes.ResultCode] | None:
    blocked = account.blocked
    if blocked or (advertising and account.unconsented):
        digits = str(accepted.digits[row])
        if blocked and (
            (account_id, digits, "all") in blocked
            or (advertising and (account_id, digits, "advertising") in blocked)
        ):
            return "The number is on the account's blacklist.", codes.BLACKLISTED
        if advertising and digits in account.unconsented:
            return "The number has no İYS consent (ONAY) for the brand.", codes.NO_CONSENT
    if not kind.number.domestic and not account.international:
        return "The number is abroad and the account has no international sending.", (
            codes.INTERNATIONAL_DISABLED
        )
    return None


def _count(tally: Tally, kind: _Kind) -> None:
    tally.valid += kind.count
    tally.segments += kind.encoding.segments * kind.count
    if kind.price.balance is Balance.MAIN:
        tally.credits += kind.price.amount * kind.count
    else:
        tally.kurus += kind.price.amount * kind.count
    tally.encodings[kind.encoding.label] += kind.count
