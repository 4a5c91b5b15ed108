"""İYS consent: an account's access to the registry (set by the operator), and the consent
records of its brand, added through any door, checked by İYS's own rules before anything is
kept, and pushed to İYS by the worker.

Advertising sends of an account in ``enforce`` mode go only to numbers whose record in force is
an ``ONAY`` (``sending/acceptance.py`` reads the records this keeps).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti import codes
from ileti.codes import GatewayError
from ileti.domain import consent
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.consent import Consent, ConsentError, Refused
from ileti.store import accounts as account_store
from ileti.store import consents as store
from ileti.store.consents import IysAccess, NewConsent, StoredConsent
from ileti.store.db import Database
from ileti.store.keyring import Keyring
from ileti.validation import invalid, phone_number, quoted

__all__ = [
    "AddOutcome",
    "ConsentRejection",
    "Consents",
    "IysChange",
    "IysView",
    "StoredConsent",
]

MAX_AT_ONCE = 5_000
MODES = ("off", "enforce")
# The API's names for İYS's fields.
API_NAMES = {"recipientType": "recipient_type", "consentDate": "consent_date"}
ORIGINS = ("api", "file", "panel")
# What a record that leaves them out is: an individual's consent to SMS.
_DEFAULTS = {"recipient_type": consent.DEFAULT_RECIPIENT_TYPE, "type": "MESAJ"}


@dataclass(frozen=True, slots=True)
class ConsentRejection:
    """A record not kept: its place in what was given, İYS's code and what is wrong."""

    index: int
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class AddOutcome:
    accepted: int
    rejected: list[ConsentRejection] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class IysChange:
    """What the operator sets; None leaves a setting as it is."""

    url: str | None = None
    iys_code: str | None = None
    brand_code: str | None = None
    username: str | None = None
    password: str | None = None
    mode: str | None = None


@dataclass(frozen=True, slots=True)
class IysView:
    """An account's İYS settings as shown: never the password."""

    url: str
    iys_code: str
    brand_code: str
    username: str
    mode: str
    pulled_at: datetime | None
    pushed_at: datetime | None
    last_error: str | None
    # How many records wait, were taken, were refused, came from İYS.
    states: dict[str, int]


class Consents:
    def __init__(self, db: Database, keyring: Keyring, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db = db
        self.keyring = keyring
        self.clock = clock

    async def configure(self, account: str, change: IysChange) -> IysView:
        """Set an account's İYS access and mode (the operator's call, by account name). The
        first setting needs every field; the password is kept sealed."""
        if change.mode is not None and change.mode not in MODES:
            raise invalid("iys_mode", f"is one of {', '.join(MODES)}")
        if change.url is not None and not change.url.startswith(("http://", "https://")):
            raise invalid("iys_url", "must be an http:// or https:// address")
        async with self.db.write() as conn:
            account_id = (await account_store.find_account(conn, account)).id
            current = await store.access_of(conn, account_id)
            given = {
                "url": change.url,
                "iys_code": change.iys_code,
                "brand_code": change.brand_code,
                "username": change.username,
            }
            values = {
                name: value if value is not None else getattr(current, name, None)
                for name, value in given.items()
            }
            missing = [name for name, value in values.items() if not value]
            if current is None and change.password is None:
                missing.append("password")
            if missing:
                names = ", ".join(f"--iys-{name.replace('_', '-')}" for name in missing)
                raise ValueError(f"İYS needs {names} the first time it is set")
            if change.password is not None:
                password = self.keyring.seal(change.password)
            else:
                assert current is not None  # a first setting without one is refused above
                password = current.password
            mode = change.mode or (current.mode if current is not None else "off")
            await store.save_access(
                conn,
                account_id,
                url=str(values["url"]).rstrip("/"),
                iys_code=str(values["iys_code"]),
                brand_code=str(values["brand_code"]),
                username=str(values["username"]),
                password=password,
                mode=mode,
            )
            view = await self._view(conn, account_id)
        assert view is not None
        return view

    async def settings(self, account_id: int) -> IysView | None:
        async with self.db.read() as conn:
            return await self._view(conn, account_id)

    async def settings_for(self, account: str) -> IysView | None:
        async with self.db.read() as conn:
            account_id = (await account_store.find_account(conn, account)).id
            return await self._view(conn, account_id)

    async def account_id(self, account: str) -> int:
        async with self.db.read() as conn:
            return (await account_store.find_account(conn, account)).id

    async def add(self, account_id: int, items: Sequence[object], origin: str) -> AddOutcome:
        """Keep the records that İYS's rules allow, in the order given (each checked against
        the recipient's record before it, kept or given earlier in ``items``), and say why
        each other one was refused. All are kept in one transaction, or none."""
        if origin not in ORIGINS:
            raise ValueError(f"unknown origin {origin!r}")
        if not items:
            raise invalid("consents", "must list at least one record")
        if len(items) > MAX_AT_ONCE:
            raise GatewayError(
                codes.TOO_MANY_RECIPIENTS,
                f"{len(items):,} records; at most {MAX_AT_ONCE:,} a request.",
            )
        now = self.clock.now()
        rejected: list[ConsentRejection] = []
        read: list[tuple[int, Consent]] = []
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                rejected.append(ConsentRejection(index, codes.INVALID_FIELD.code, "not an object"))
                continue
            given = {**_DEFAULTS, **{k: v for k, v in item.items() if v not in (None, "")}}
            try:
                read.append((index, consent.read(given, now, names=API_NAMES)))
            except Refused as refused:
                rejected.append(_rejection(index, refused.error))
        accepted = 0
        async with self.db.write() as conn:
            access = await self._access(conn, account_id)
            await store.lock_account(conn, account_id)
            in_force = await store.latest(
                conn, account_id, access.brand_code, {record.recipient for _, record in read}
            )
            before: dict[tuple[str, str, str], Consent] = {
                key: stored.record for key, stored in in_force.items()
            }
            kept: dict[tuple[str, str, str], int] = {}  # key → its last entry's place
            entries: list[NewConsent] = []
            for index, record in read:
                try:
                    consent.check_next(record, before.get(record.key))
                except Refused as refused:
                    rejected.append(_rejection(index, _named(refused.error)))
                    continue
                before[record.key] = record
                if record.key in kept:
                    earlier = entries[kept[record.key]]
                    entries[kept[record.key]] = NewConsent(
                        earlier.record, earlier.origin, earlier.sync_state, latest=False
                    )
                kept[record.key] = len(entries)
                entries.append(NewConsent(record, origin, store.PENDING))
            superseded = [in_force[key].id for key in kept if key in in_force]
            await store.append(conn, account_id, access.brand_code, entries, superseded, now)
            accepted = len(entries)
        rejected.sort(key=lambda r: r.index)
        return AddOutcome(accepted, rejected)

    async def status(
        self,
        account_id: int,
        recipient: object,
        recipient_type: object = consent.DEFAULT_RECIPIENT_TYPE,
        kind: object = "MESAJ",
    ) -> StoredConsent | None:
        """The record in force for a recipient (None: it has none)."""
        number, rtype, type_ = _key(recipient, recipient_type, kind)
        async with self.db.read() as conn:
            access = await self._access(conn, account_id)
            found = await store.latest(conn, account_id, access.brand_code, [number])
        return found.get((number, rtype, type_))

    async def page(
        self,
        account_id: int,
        *,
        recipient: object = None,
        status: object = None,
        recipient_type: object = None,
        sync_state: object = None,
        latest_only: bool = False,
        limit: int = 100,
        before: int | None = None,
    ) -> tuple[list[StoredConsent], int | None]:
        """The account's records, newest first, filtered; where the next page starts."""
        number = _recipient(recipient) if recipient not in (None, "") else None
        async with self.db.read() as conn:
            await self._access(conn, account_id)
            return await store.page(
                conn,
                account_id,
                recipient=number,
                status=_option(status, consent.STATUSES, "status"),
                recipient_type=_option(recipient_type, consent.RECIPIENT_TYPES, "recipient_type"),
                sync_state=_option(
                    sync_state,
                    (store.PENDING, store.SYNCED, store.FAILED, store.PULLED),
                    "sync_state",
                ),
                latest_only=latest_only,
                limit=limit,
                before=before,
            )

    async def _access(self, conn: AsyncConnection, account_id: int) -> IysAccess:
        access = await store.access_of(conn, account_id)
        if access is None:
            raise GatewayError(
                codes.IYS_NOT_SET_UP,
                "İYS is not set up for this account: the gateway's operator sets its İYS"
                " brand code and access first.",
            )
        return access

    async def _view(self, conn: AsyncConnection, account_id: int) -> IysView | None:
        access = await store.access_of(conn, account_id)
        if access is None:
            return None
        return IysView(
            url=access.url,
            iys_code=access.iys_code,
            brand_code=access.brand_code,
            username=access.username,
            mode=access.mode,
            pulled_at=access.pulled_at,
            pushed_at=access.pushed_at,
            last_error=access.last_error,
            states=await store.sync_states(conn, account_id),
        )


def _rejection(index: int, error: ConsentError) -> ConsentRejection:
    return ConsentRejection(index, error.code, f"{error.location}: {error.message}")


def _named(error: ConsentError) -> ConsentError:
    """An error of a rule between records, with the API's name for the field."""
    return ConsentError(error.code, API_NAMES.get(error.location, error.location), error.message)


def _recipient(raw: object) -> str:
    """A Turkish mobile number asked about (TS-1034 as any number that cannot be one)."""
    number = phone_number(raw, "recipient")
    if number.region != "TR":
        raise GatewayError(
            codes.INVALID_NUMBER,
            f"Invalid phone number: {quoted(raw)} is not a Turkish number; İYS keeps no other.",
            errors=[{"field": "recipient", "message": "is not a Turkish number"}],
        )
    return number.digits


def _option(value: object, allowed: tuple[str, ...], name: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value.strip().lower() not in {a.lower() for a in allowed}:
        raise invalid(name, f"is one of {', '.join(allowed)}")
    text = value.strip()
    return next(a for a in allowed if a.lower() == text.lower())


def _key(recipient: object, recipient_type: object, kind: object) -> tuple[str, str, str]:
    rtype = _option(recipient_type, consent.RECIPIENT_TYPES, "recipient_type")
    type_ = _option(kind, consent.TYPES, "type")
    return (
        _recipient(recipient),
        rtype or consent.DEFAULT_RECIPIENT_TYPE,
        type_ or "MESAJ",
    )
