"""İYS's answers, read into plain values; an answer of the wrong shape is an ``IysError``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeGuard

from ileti.domain.consent import Consent, ConsentError, Refused, read
from ileti.iys.errors import IysError

OUTCOME_STATUSES = ("success", "failure", "enqueue")
# İYS already accepted the records it sends back: its clock judged their dates, not ours.
_ANY_TIME = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Token:
    access: str = field(repr=False)
    refresh: str = field(repr=False)
    expires_in: float  # seconds
    refresh_expires_in: float


@dataclass(frozen=True, slots=True)
class Added:
    transaction_id: str
    creation_date: str


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """One record of a batch: ``success``, ``failure`` (with the errors) or still ``enqueue``."""

    index: int
    status: str
    transaction_id: str | None = None
    errors: list[ConsentError] = field(default_factory=list)
    creation_date: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """A record as İYS keeps it: the brand's own, or a citizen's change (source ``IYS_…``)."""

    consent: Consent
    transaction_id: str
    creation_date: str


@dataclass(frozen=True, slots=True)
class ChangesPage:
    changes: list[Change]
    after: str | None  # the cursor to ask for the next page with


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise IysError(f"İYS's answer has no {name}")
    return value


def _mapping(body: object, what: str) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise IysError(f"İYS's answer is not {what}")
    return body


def token(body: object) -> Token:
    body = _mapping(body, "a token")
    expires_in, refresh_expires_in = body.get("expires_in"), body.get("refresh_expires_in")
    if not (_positive(expires_in) and _positive(refresh_expires_in)):
        raise IysError("İYS's token answer gives no lifetimes")
    return Token(
        _text(body, "access_token"),
        _text(body, "refresh_token"),
        float(expires_in),
        float(refresh_expires_in),
    )


def _positive(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def added(body: object) -> Added:
    body = _mapping(body, "a transaction")
    return Added(_text(body, "transactionId"), _text(body, "creationDate"))


def request_id(body: object) -> str:
    return _text(_mapping(body, "a request"), "requestId")


def consent_errors(body: object) -> list[ConsentError]:
    """The ``errors`` of an answer; none when it has none in İYS's form."""
    if not isinstance(body, Mapping) or not isinstance(body.get("errors"), list):
        return []
    return [_error(error) for error in body["errors"]]


def _error(error: object) -> ConsentError:
    error = _mapping(error, "an error")
    return ConsentError(
        str(error.get("code", "")), str(error.get("location", "")), str(error.get("message", ""))
    )


def outcomes(body: object, size: int) -> list[ItemOutcome]:
    """A batch's outcomes, one for each of its ``size`` records."""
    if not isinstance(body, list):
        raise IysError("İYS's answer is not a list of outcomes")
    read_ = [_outcome(item, size) for item in body]
    if sorted(item.index for item in read_) != list(range(size)):
        raise IysError(f"İYS's outcomes do not cover the request's {size} records")
    return read_


def _outcome(item: object, size: int) -> ItemOutcome:
    item = _mapping(item, "an outcome")
    index, status = item.get("index"), item.get("status")
    if not isinstance(index, int) or not 0 <= index < size or status not in OUTCOME_STATUSES:
        raise IysError(f"İYS's outcome cannot be read: {dict(item)!r}")
    if status == "success":
        return ItemOutcome(
            index,
            status,
            transaction_id=_text(item, "transactionId"),
            creation_date=_text(item, "creationDate"),
        )
    return ItemOutcome(index, status, errors=consent_errors(item))


def change(body: object) -> Change:
    body = _mapping(body, "a record")
    source = body.get("source")
    citizen = isinstance(source, str) and source.startswith("IYS_")
    try:
        consent = read(body, _ANY_TIME, citizen=citizen)
    except Refused as refused:
        raise IysError(f"İYS's record cannot be read: {refused}") from None
    return Change(consent, _text(body, "transactionId"), _text(body, "creationDate"))


def changes_page(body: object) -> ChangesPage:
    body = _mapping(body, "a page of changes")
    items, after = body.get("list"), body.get("after")
    if not isinstance(items, list) or not (after is None or isinstance(after, str)):
        raise IysError("İYS's page of changes cannot be read")
    return ChangesPage([change(item) for item in items], after)
