"""İYS consents: the account's İYS settings and sync state, its consent records (searched by
number, filtered, paged), one record added by hand and records imported from a file."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams, UploadFile
from starlette.responses import Response
from starlette.routing import Route

from ileti.campaigns.consent_files import ConsentRow, consent_rows
from ileti.campaigns.limits import FileLimits, FileRefused
from ileti.campaigns.sheets import read_table
from ileti.codes import GatewayError
from ileti.compliance.consents import MAX_AT_ONCE, ConsentRejection, StoredConsent
from ileti.domain import consent
from ileti.domain.consent import Problem, Refused
from ileti.web.i18n import ISTANBUL
from ileti.web.pages import Screen, page

PAGE_SIZE = 100
# An import's refused rows shown on its result page; the count covers them all.
SHOWN_REFUSALS = 1_000
SYNC_STATES = ("pending", "synced", "failed", "pulled")
# İYS's problem codes in the panel's words (the service's own words name İYS's fields).
PROBLEMS: dict[str, str] = {
    Problem.RECIPIENT: "The number is not a Turkish mobile number.",
    Problem.RECIPIENT_TYPE: "The recipient type is BIREYSEL or TACIR.",
    Problem.TYPE: "The consent type is not one İYS knows.",
    Problem.STATUS: "The status is ONAY or RET.",
    Problem.SOURCE: "The source is not one of İYS's sources for a brand.",
    Problem.DATE_FORMAT: "The consent date is not a date and time.",
    Problem.DATE_TOO_EARLY: "The consent date is before 1 May 2015, when İYS began.",
    Problem.DATE_IN_FUTURE: "The consent date is in the future.",
    Problem.FIRST_IS_RET: (
        "A number's first record cannot be RET: there is no consent to withdraw yet."
    ),
    Problem.SAME_STATUS: "The number's record in force has this status already.",
    Problem.DATE_NOT_AFTER: (
        "The consent date must be after the date of the number's record in force."
    ),
    Problem.DATE_REQUIRED: "The consent date is required for BIREYSEL.",
    Problem.SOURCE_REQUIRED: "The source is required for BIREYSEL.",
}


def _position(screen: Screen) -> int | None:
    value = screen.query.get("before", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


@dataclass(frozen=True)
class Filters:
    """The search form: a number and what the list is narrowed to."""

    number: str = ""
    status: str = ""
    recipient_type: str = ""
    sync_state: str = ""
    in_force: bool = False

    @classmethod
    def of(cls, query: QueryParams) -> Filters:
        return cls(
            number=query.get("number", "").strip()[:40],
            status=query.get("status", ""),
            recipient_type=query.get("recipient_type", ""),
            sync_state=query.get("sync_state", ""),
            in_force=query.get("in_force") == "1",
        )

    @property
    def any(self) -> bool:
        return bool(
            self.number or self.status or self.recipient_type or self.sync_state or self.in_force
        )

    def link(self, before: int | None = None) -> str:
        """This search's page (from ``before``, else the newest)."""
        given = {
            "number": self.number,
            "status": self.status,
            "recipient_type": self.recipient_type,
            "sync_state": self.sync_state,
            "in_force": "1" if self.in_force else "",
            "before": str(before) if before is not None else "",
        }
        query = urlencode({name: value for name, value in given.items() if value})
        return f"/panel/consents?{query}" if query else "/panel/consents"


@dataclass(frozen=True)
class RecordForm:
    """The form for one record; the consent date as the two inputs give it, Istanbul time."""

    number: str = ""
    recipient_type: str = "BIREYSEL"
    status: str = "ONAY"
    source: str = "HS_WEB"
    date: str = ""
    time: str = ""

    @classmethod
    def posted(cls, screen: Screen) -> RecordForm:
        return cls(
            number=screen.field("number").strip(),
            recipient_type=screen.field("recipient_type"),
            status=screen.field("status"),
            source=screen.field("source"),
            date=screen.field("date").strip(),
            time=screen.field("time").strip(),
        )

    @classmethod
    def fresh(cls, screen: Screen) -> RecordForm:
        """An empty form dated now (to the second, so never in the future)."""
        now = screen.services.clock.now().astimezone(ISTANBUL)
        return cls(date=now.strftime("%Y-%m-%d"), time=now.strftime("%H:%M:%S"))

    def record(self) -> dict[str, object]:
        """The record as the consent service takes it."""
        moment = ""
        if self.date:
            time = self.time or "00:00"
            moment = f"{self.date} {time}:00" if len(time) == 5 else f"{self.date} {time}"
        return {
            "recipient": self.number,
            "recipient_type": self.recipient_type,
            "type": "MESAJ",
            "status": self.status,
            "source": self.source,
            "consent_date": moment,
        }


@dataclass(frozen=True)
class RefusedRow:
    line: int
    number: str
    code: str
    why: str


@dataclass
class Imported:
    """What an import kept and refused (each refused row with its number in the file)."""

    file_name: str
    rows: int
    accepted: int = 0
    refused: list[RefusedRow] = field(default_factory=list)


def _why(screen: Screen, rejection: ConsentRejection) -> str:
    """A refused record's reason in the panel's language."""
    known = PROBLEMS.get(rejection.code)
    return screen.t.text(known) if known else rejection.message


# The page.


@page
async def consents(screen: Screen) -> Response:
    return await _consents_page(screen)


async def _consents_page(screen: Screen, status: int = 200, **context: Any) -> Response:
    iys = await screen.services.consents.settings(screen.account_id)
    if iys is None:
        return screen.render("consents/consents.html", status, iys=None)
    filters = Filters.of(screen.query)
    before = _position(screen)
    search_error = ""
    try:
        listing = await _listing(screen, filters, before)
    except Refused:
        listing, search_error = Listing(), screen.t.text(PROBLEMS[Problem.RECIPIENT])
    except GatewayError as error:
        listing, search_error = Listing(), screen.refusal(error)
    if search_error:
        status = max(status, 400)
    context.setdefault("typed", RecordForm.fresh(screen))
    kept = screen.query.get("kept", "")
    return screen.render(
        "consents/consents.html",
        status,
        iys=iys,
        sync_states=SYNC_STATES,
        filters=filters,
        listing=listing,
        before=before,
        next_page=filters.link(listing.next_before) if listing.next_before else None,
        first_page=filters.link() if before is not None else None,
        search_error=search_error,
        recipient_types=consent.RECIPIENT_TYPES,
        statuses=consent.STATUSES,
        sources=consent.BRAND_SOURCES,
        done=screen.query.get("done", ""),
        kept=kept if kept.isascii() and kept.isdigit() and len(kept) <= 15 else "",
        shown_refusals=SHOWN_REFUSALS,
        **context,
    )


@dataclass(frozen=True)
class Listing:
    """The records a search found, where the next page starts, and for a searched number
    (its digits) the record in force of each recipient type."""

    records: list[StoredConsent] = field(default_factory=list)
    next_before: int | None = None
    searched: str = ""
    in_force: dict[str, StoredConsent | None] = field(default_factory=dict)


async def _listing(screen: Screen, filters: Filters, before: int | None) -> Listing:
    """``Refused`` for a number that is none; ``GatewayError`` for a filter the service
    refuses."""
    service = screen.services.consents
    searched = consent.recipient_digits(filters.number) if filters.number else ""
    records, next_before = await service.page(
        screen.account_id,
        recipient=searched or None,
        status=filters.status or None,
        recipient_type=filters.recipient_type or None,
        sync_state=filters.sync_state or None,
        latest_only=filters.in_force,
        limit=PAGE_SIZE,
        before=before,
    )
    in_force = {
        rtype: await service.status(screen.account_id, searched, rtype)
        for rtype in (consent.RECIPIENT_TYPES if searched else ())
    }
    return Listing(records, next_before, searched, in_force)


# Adding one record.


@page
async def add(screen: Screen) -> Response:
    typed = RecordForm.posted(screen)
    try:
        outcome = await screen.services.consents.add(
            screen.account_id, [typed.record()], origin="panel"
        )
    except GatewayError as error:
        return await _consents_page(screen, 400, error=screen.refusal(error), typed=typed)
    if outcome.rejected:
        refused = outcome.rejected[0]
        said = f"{_why(screen, refused)} ({refused.code})"
        return await _consents_page(screen, 400, error=said, typed=typed)
    number = consent.recipient_digits(typed.number)  # kept, so a number the service read
    return screen.redirect(f"/panel/consents?{urlencode({'done': 'added', 'kept': number})}")


# Importing a file.


@page
async def import_file(screen: Screen) -> Response:
    upload = screen.form.get("file") if screen.form is not None else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _consents_page(screen, 400, error=screen.t.text("Choose a file to upload."))
    data = await upload.read()
    limits = FileLimits.from_settings(screen.services.settings)
    sheet = screen.field("sheet").strip() or None
    try:
        rows = await asyncio.to_thread(_read, data, upload.filename, sheet, limits)
    except FileRefused as refused:
        return await _consents_page(screen, 400, error=_file_refusal(screen, str(refused)))
    if not rows:
        return await _consents_page(screen, 400, error=screen.t.text("The file has no rows."))
    imported = Imported(upload.filename, len(rows))
    try:
        await _add_rows(screen, rows, imported)
    except GatewayError as error:
        return await _consents_page(screen, 400, error=screen.refusal(error), imported=imported)
    return await _consents_page(screen, imported=imported)


def _read(data: bytes, file_name: str, sheet: str | None, limits: FileLimits) -> list[ConsentRow]:
    """The file's rows as records (on a thread: a large file takes a while)."""
    return consent_rows(read_table(data, file_name, sheet=sheet, limits=limits))


async def _add_rows(screen: Screen, rows: list[ConsentRow], imported: Imported) -> None:
    """The rows added as many at a time as the service takes; each chunk is kept whole or
    not at all, so a refusal part way leaves the chunks before it kept (and counted)."""
    for start in range(0, len(rows), MAX_AT_ONCE):
        chunk = rows[start : start + MAX_AT_ONCE]
        outcome = await screen.services.consents.add(
            screen.account_id, [row.fields for row in chunk], origin="file"
        )
        imported.accepted += outcome.accepted
        for rejection in outcome.rejected:
            row = chunk[rejection.index]
            imported.refused.append(
                RefusedRow(
                    row.line,
                    str(row.fields.get("recipient", "")),
                    rejection.code,
                    _why(screen, rejection),
                )
            )


def _file_refusal(screen: Screen, message: str) -> str:
    """A file that cannot be read: the reader's words name its columns and sheets in English."""
    if screen.t.lang == "en":
        return message
    return f"{screen.t.text('The file cannot be read.')} — {message}"


routes = [
    Route("/consents", consents, methods=["GET"]),
    Route("/consents/add", add, methods=["POST"]),
    Route("/consents/import", import_file, methods=["POST"]),
]
