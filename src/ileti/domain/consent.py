"""İYS consent records and the registry's rules, checked the same way by the gateway before a
record is sent on and by the simulator that stands in for İYS.

A record says that a recipient (a Turkish mobile number) gave (``ONAY``) or withdrew (``RET``)
consent to a brand's commercial messages of one type (``MESAJ``: SMS). Dates are Turkey time in
İYS's own form, ``YYYY-MM-DD HH:mm:ss``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from ileti.domain.numbers import InvalidNumber, normalise
from ileti.domain.schedule import ISTANBUL

RECIPIENT_TYPES = ("BIREYSEL", "TACIR")
STATUSES = ("ONAY", "RET")
TYPES = ("MESAJ", "ARAMA", "EPOSTA")
# Where a brand collected a consent (``HS_``: hizmet sağlayıcı, the brand's side).
BRAND_SOURCES = (
    "HS_WEB",
    "HS_MESAJ",
    "HS_FIZIKSEL_ORTAM",
    "HS_ISLAK_IMZA",
    "HS_CAGRI_MERKEZI",
    "HS_SOSYAL_MEDYA",
    "HS_EPOSTA",
    "HS_MOBIL",
    "HS_EORTAM",
    "HS_ETKINLIK",
    "HS_ATM",
    "HS_KARAR",
    "HS_2015",
)
# Where a citizen changed one themselves: İYS's web site, app, call centre (3338), e-Devlet.
CITIZEN_SOURCES = ("IYS_WEB", "IYS_MOBIL", "IYS_3338", "IYS_CM", "IYS_KISA_LINK", "IYS_EDEVLET")
EARLIEST = datetime(2015, 5, 1, tzinfo=ISTANBUL)
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# The recipient type a send is checked against when it names none.
DEFAULT_RECIPIENT_TYPE = "BIREYSEL"


class Problem(StrEnum):
    """What is wrong with a record, by the simulator's ``H…`` code."""

    RECIPIENT = "H101"
    RECIPIENT_TYPE = "H102"
    TYPE = "H103"
    STATUS = "H104"
    SOURCE = "H105"
    DATE_FORMAT = "H106"
    DATE_TOO_EARLY = "H107"
    DATE_IN_FUTURE = "H108"
    FIRST_IS_RET = "H109"
    SAME_STATUS = "H110"
    DATE_NOT_AFTER = "H111"
    DATE_REQUIRED = "H112"
    SOURCE_REQUIRED = "H113"


@dataclass(frozen=True, slots=True)
class ConsentError:
    """A record refused: the ``H…`` code, the field (İYS's name) and what is wrong."""

    code: str
    location: str
    message: str


@dataclass(frozen=True, slots=True)
class Consent:
    """One record. ``recipient`` is the number's international digits (``905321234567``)."""

    recipient: str
    recipient_type: str
    type: str
    status: str
    source: str | None
    consent_date: datetime | None  # aware; None only for a TACIR record given without one

    @property
    def key(self) -> tuple[str, str, str]:
        """What one history of records is kept for."""
        return (self.recipient, self.recipient_type, self.type)


class Refused(ValueError):
    """A record the registry's rules refuse."""

    def __init__(self, error: ConsentError) -> None:
        super().__init__(f"{error.code} {error.location}: {error.message}")
        self.error = error


def _refuse(problem: Problem, location: str, message: str) -> Refused:
    return Refused(ConsentError(problem.value, location, message))


def iys_date(moment: datetime) -> str:
    """A moment as İYS writes it: Turkey time, to the second."""
    return moment.astimezone(ISTANBUL).strftime(DATE_FORMAT)


def parse_date(text: object, location: str = "consentDate") -> datetime:
    """``YYYY-MM-DD HH:mm:ss`` in Turkey time (``T`` between them also read), aware."""
    if not isinstance(text, str):
        raise _refuse(Problem.DATE_FORMAT, location, "must be text: YYYY-MM-DD HH:mm:ss")
    try:
        local = datetime.strptime(text.strip().replace("T", " "), DATE_FORMAT)
    except ValueError:
        raise _refuse(
            Problem.DATE_FORMAT, location, f"{text!r} is not a date: YYYY-MM-DD HH:mm:ss"
        ) from None
    return local.replace(tzinfo=ISTANBUL).astimezone(UTC)


def iys_recipient(digits: str) -> str:
    """A recipient as İYS writes it: ``+90…``."""
    return f"+{digits}"


def recipient_digits(raw: object, location: str = "recipient") -> str:
    """A Turkish mobile number in its normal form (``90…`` digits), from ``+90…``,
    ``0532…``, ``532…`` and the like."""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise _refuse(Problem.RECIPIENT, location, "must be a Turkish mobile number")
    try:
        number = normalise(str(raw))
    except InvalidNumber as exc:
        raise _refuse(Problem.RECIPIENT, location, f"{raw!r}: {exc}") from None
    if number.region != "TR" or not number.digits.startswith("905"):
        raise _refuse(Problem.RECIPIENT, location, f"{raw!r} is not a Turkish mobile number")
    return number.digits


def _choice(value: object, allowed: tuple[str, ...], problem: Problem, location: str) -> str:
    if not isinstance(value, str) or value.strip().upper() not in allowed:
        raise _refuse(problem, location, f"{value!r}: one of {', '.join(allowed)}")
    return value.strip().upper()


def read(
    fields: Mapping[str, object],
    now: datetime,
    *,
    names: Mapping[str, str] | None = None,
    citizen: bool = False,
) -> Consent:
    """A record from its fields, each checked on its own (``Refused`` names the first wrong one).

    ``names`` maps İYS's field names (``recipientType``, ``consentDate``) to the caller's (the
    gateway's API says ``recipient_type``, ``consent_date``); errors name the caller's fields.
    ``citizen``: a change a citizen made in İYS (its source is one of ``CITIZEN_SOURCES``).
    """
    named = names or {}

    def get(field: str) -> tuple[object, str]:
        name = named.get(field, field)
        return fields.get(name), name

    raw, where = get("recipient")
    recipient = recipient_digits(raw, where)
    raw, where = get("recipientType")
    recipient_type = _choice(raw, RECIPIENT_TYPES, Problem.RECIPIENT_TYPE, where)
    raw, where = get("type")
    kind = _choice(raw, TYPES, Problem.TYPE, where)
    raw, where = get("status")
    status = _choice(raw, STATUSES, Problem.STATUS, where)
    trader = recipient_type == "TACIR"
    raw, where = get("source")
    source: str | None = None
    if raw is None or raw == "":
        if not trader:
            raise _refuse(Problem.SOURCE_REQUIRED, where, "is required for BIREYSEL")
    else:
        sources = CITIZEN_SOURCES if citizen else BRAND_SOURCES
        source = _choice(raw, sources, Problem.SOURCE, where)
    raw, where = get("consentDate")
    consent_date: datetime | None = None
    if raw is None or raw == "":
        if not trader:
            raise _refuse(Problem.DATE_REQUIRED, where, "is required for BIREYSEL")
    else:
        consent_date = parse_date(raw, where)
        if consent_date < EARLIEST:
            raise _refuse(Problem.DATE_TOO_EARLY, where, "must not be before 2015-05-01")
        if consent_date > now:
            raise _refuse(Problem.DATE_IN_FUTURE, where, "must not be in the future")
    return Consent(recipient, recipient_type, kind, status, source, consent_date)


def check_next(record: Consent, latest: Consent | None, location: str = "status") -> None:
    """Refuse ``record`` if it cannot follow ``latest``, the recipient's last record of the
    same recipient type and type (None: it has none)."""
    if latest is None:
        if record.status == "RET":
            raise _refuse(
                Problem.FIRST_IS_RET, location, "a recipient's first record cannot be RET"
            )
        return
    if record.status == latest.status:
        raise _refuse(
            Problem.SAME_STATUS, location, f"the recipient's last record is {latest.status}"
        )
    if (
        record.consent_date is not None
        and latest.consent_date is not None
        and record.consent_date <= latest.consent_date
    ):
        raise _refuse(
            Problem.DATE_NOT_AFTER,
            "consentDate",
            f"must be after the recipient's last record ({iys_date(latest.consent_date)})",
        )


def fields_of(record: Consent) -> dict[str, object]:
    """A record in İYS's own JSON form."""
    fields: dict[str, object] = {
        "recipient": iys_recipient(record.recipient),
        "recipientType": record.recipient_type,
        "type": record.type,
        "status": record.status,
    }
    if record.source is not None:
        fields["source"] = record.source
    if record.consent_date is not None:
        fields["consentDate"] = iys_date(record.consent_date)
    return fields
