"""Sends and reports: the account's messages filtered and paged by cursor, one message's and
one group's detail (with a cancel, confirmed on a page of its own, while something of it has
not left), the filtered list as a streamed CSV file, and the daily summary."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ileti.codes import GatewayError
from ileti.domain.lifecycle import MessageStatus
from ileti.reporting.reports import MessageQuery, MessageView
from ileti.web.i18n import ISTANBUL, Translator
from ileti.web.pages import Screen, page

PAGE_SIZE = 50
# The summary's range when only one end is given, and the longest it shows at once.
SUMMARY_DAYS = 7
MAX_SUMMARY_DAYS = 366
# Rows read per statement while a CSV file streams out: one page in memory at a time.
EXPORT_PAGE = 1000
# Excel takes a file for UTF-8 (Turkish letters and all) only when it starts with a BOM.
BOM = "\ufeff"
# Each state as the panel names it (the raw state stays in the markup for tests and scripts).
STATES = {
    "queued": "Queued",
    "sent": "Sent, awaiting report",
    "delivered": "Delivered",
    "failed": "Failed",
    "expired": "Expired",
    "cancelled": "Cancelled",
}

# The alphabet a message went out in (its ``sms_lang``), as the panel names it.
ENCODINGS = {
    "English": "GSM 7-bit",
    "Turkish": "GSM 7-bit with Turkish letters",
    "Unicode": "UCS-2 (Unicode)",
}


@dataclass(frozen=True)
class Filters:
    """The list's filters as the form holds them (text, so a wrong one is shown as typed)."""

    date_from: str = ""
    date_to: str = ""
    status: str = ""
    title: str = ""
    number: str = ""
    group_id: str = ""

    def link(self, path: str, **more: object) -> str:
        given = {name: value for name, value in asdict(self).items() if value}
        given.update({name: value for name, value in more.items() if value is not None})
        return f"{path}?{urlencode(given)}" if given else path

    @property
    def any(self) -> bool:
        return any(asdict(self).values())


def _filters(screen: Screen) -> Filters:
    return Filters(
        **{name: screen.query.get(name, "").strip() for name in Filters.__dataclass_fields__}
    )


def _query(t: Translator, filters: Filters, before: str = "") -> MessageQuery | str:
    """The service's query, or what is wrong with the filters, in the user's words."""
    try:
        first = date.fromisoformat(filters.date_from) if filters.date_from else None
        last = date.fromisoformat(filters.date_to) if filters.date_to else None
    except ValueError:
        return t.text("Write dates as YYYY-MM-DD.")
    if first is not None and last is not None and first > last:
        return t.text("The first day comes after the last.")
    status = None
    if filters.status:
        if filters.status not in STATES:
            return t.text("Choose a state from the list.")
        status = MessageStatus(filters.status)
    group_id = _whole(filters.group_id)
    if filters.group_id and group_id is None:
        return t.text("A group id is a whole number.")
    position = _whole(before)
    return MessageQuery(
        date_from=first,
        date_to=last,
        status=status,
        title=filters.title or None,
        number=filters.number or None,
        group_id=group_id,
        limit=PAGE_SIZE,
        before=position,
    )


def _whole(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else None


async def _page(
    screen: Screen, query: MessageQuery
) -> tuple[list[MessageView], int | None, str | None]:
    """A page of the list, or a refusal (a number that is none) in the user's words."""
    try:
        rows, position = await screen.services.reports.messages(screen.account_id, query)
    except GatewayError as error:
        return [], None, screen.refusal(error)
    return rows, position, None


@page
async def sends(screen: Screen) -> Response:
    filters = _filters(screen)
    query = _query(screen.t, filters, screen.query.get("before", ""))
    rows: list[MessageView] = []
    position = None
    error = query if isinstance(query, str) else None
    if isinstance(query, MessageQuery):
        rows, position, error = await _page(screen, query)
    return screen.render(
        "sends/list.html",
        status=400 if error else 200,
        filters=filters,
        rows=rows,
        error=error,
        states=STATES,
        paged=isinstance(query, MessageQuery) and query.before is not None,
        first_page=filters.link("/panel/sends"),
        next_page=filters.link("/panel/sends", before=position) if position else None,
        searched=_searched(screen, rows, position),
        export=filters.link("/panel/sends/export.csv"),
    )


def _searched(screen: Screen, rows: list[MessageView], position: int | None) -> int | None:
    """How many messages the page looked through, when it stopped short of a full page with
    more to search below (a filter by state or title looks through so many at most)."""
    if position is not None and len(rows) < PAGE_SIZE:
        return screen.services.reports.walk
    return None


@page
async def export(screen: Screen) -> Response:
    """The filtered list as CSV, read and written a page at a time."""
    filters = _filters(screen)
    query = _query(screen.t, filters)
    if isinstance(query, MessageQuery):
        query = replace(query, limit=EXPORT_PAGE)
        rows, position, error = await _page(screen, query)
    else:
        error = query
    if error or not isinstance(query, MessageQuery):
        return screen.render(
            "sends/list.html",
            status=400,
            filters=filters,
            rows=[],
            error=error,
            states=STATES,
            paged=False,
            first_page=filters.link("/panel/sends"),
            next_page=None,
            searched=None,
            export=filters.link("/panel/sends/export.csv"),
        )
    reports, account_id, t = screen.services.reports, screen.account_id, screen.t

    async def lines() -> AsyncIterator[str]:
        nonlocal rows, position
        yield BOM + _csv_line(_header(t))
        while True:
            yield "".join(_csv_line(_csv_row(row)) for row in rows)
            if position is None:
                return
            rows, position = await reports.messages(account_id, replace(query, before=position))

    name = f"sends-{screen.services.clock.now().strftime('%Y%m%d-%H%M%S')}.csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _header(t: Translator) -> list[str]:
    names = ("Created", "Title", "Number", "State", "Segments", "Sent", "Done", "Error reason")
    return ["sms_id", "group_id", *(t.text(name) for name in names)]


def _csv_row(row: MessageView) -> list[str]:
    return [
        str(row.id),
        str(row.group_id or ""),
        _local(row.created_at),
        row.title,
        row.sentto,
        row.status,
        str(row.segments),
        _local(row.sent_at),
        _local(row.done_at),
        row.error_reason or "",
    ]


def _local(moment: datetime | None) -> str:
    """A time in Istanbul, in the one form spreadsheets read in every language."""
    return "" if moment is None else moment.astimezone(ISTANBUL).strftime("%Y-%m-%d %H:%M:%S")


def _csv_line(values: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


@page
async def message(screen: Screen) -> Response:
    sms_id: int = screen.request.path_params["sms_id"]
    try:
        sent = await screen.services.reports.message(screen.account_id, sms_id)
    except GatewayError:
        return screen.not_found()
    return screen.render(
        "sends/message.html",
        m=sent.message,
        parts=sent.parts,
        states=STATES,
        encoding=ENCODINGS.get(sent.message.sms_lang, sent.message.sms_lang),
        cancellable=await screen.services.sending.cancellable(await screen.caller(), sms_id=sms_id),
        outcome=_outcome(screen),
    )


@page
async def group(screen: Screen) -> Response:
    group_id: int = screen.request.path_params["group_id"]
    try:
        found = await screen.services.reports.group(screen.account_id, group_id)
    except GatewayError:
        return screen.not_found()
    before = _whole(screen.query.get("before", ""))
    rows, position = await screen.services.reports.messages(
        screen.account_id, MessageQuery(group_id=group_id, limit=PAGE_SIZE, before=before)
    )
    here = f"/panel/sends/group/{group_id}"
    return screen.render(
        "sends/group.html",
        g=found,
        rows=rows,
        states=STATES,
        paged=before is not None,
        first_page=here,
        next_page=f"{here}?before={position}" if position else None,
        cancellable=await screen.services.sending.cancellable(
            await screen.caller(), group_id=group_id
        ),
        outcome=_outcome(screen),
    )


@dataclass(frozen=True)
class Outcome:
    """What a cancel did, as its detail page tells it after the redirect."""

    cancelled: int
    credits: int
    kurus: int
    left: int


_OUTCOME = tuple(Outcome.__dataclass_fields__)


def _outcome(screen: Screen) -> Outcome | None:
    given = [_count(screen.query.get(name, "")) for name in _OUTCOME]
    if any(value is None for value in given):
        return None
    return Outcome(*(value or 0 for value in given))


def _count(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


@page
async def cancel_message(screen: Screen) -> Response:
    return await _cancel(screen, "message", screen.request.path_params["sms_id"])


@page
async def cancel_group(screen: Screen) -> Response:
    return await _cancel(screen, "group", screen.request.path_params["group_id"])


async def _cancel(screen: Screen, kind: str, target: int) -> Response:
    """GET: what a cancel would stop, and a button to confirm it; POST: the cancel, then the
    detail page with what it did. Another account's id is not found, as an unknown one."""
    ids = {"sms_id": target} if kind == "message" else {"group_id": target}
    here = f"/panel/sends/{kind}/{target}"
    caller = await screen.caller()
    if screen.form is None:
        try:
            if kind == "message":
                await screen.services.reports.message(screen.account_id, target)
            else:
                await screen.services.reports.group(screen.account_id, target)
        except GatewayError:
            return screen.not_found()
        return screen.render(
            "sends/cancel.html",
            kind=kind,
            target=target,
            back=here,
            cancellable=await screen.services.sending.cancellable(caller, **ids),
        )
    try:
        done = await screen.services.sending.cancel(caller, **ids)
    except GatewayError:
        return screen.not_found()
    outcome = Outcome(done.cancelled, done.refunded_credits, done.refunded_kurus, done.left)
    return screen.redirect(f"{here}?{urlencode(asdict(outcome))}")


@page
async def summary(screen: Screen) -> Response:
    error = None
    try:
        first = _day(screen.query.get("from", ""))
        last = _day(screen.query.get("to", ""))
    except ValueError:
        first = last = None
        error = screen.t.text("Write dates as YYYY-MM-DD.")
    if first is not None and last is not None and first > last:
        first = last = None
        error = screen.t.text("The first day comes after the last.")
    if last is not None and first is None:
        first = last - timedelta(days=SUMMARY_DAYS - 1)
    if first is not None and last is None:
        last = first + timedelta(days=SUMMARY_DAYS - 1)
    if first is not None and last is not None and (last - first).days >= MAX_SUMMARY_DAYS:
        first = last = None
        error = screen.t.text("Choose at most {days} days.", days=MAX_SUMMARY_DAYS)
    result = await screen.services.reports.summary(screen.account_id, first, last)
    totals: dict[str, list[int]] = {}
    for total in result.days:
        kept = totals.setdefault(total.status.value, [0, 0, 0])
        kept[0] += total.count
        kept[1] += total.credits
        kept[2] += total.international_kurus
    return screen.render(
        "sends/summary.html",
        status=400 if error else 200,
        error=error,
        summary=result,
        totals=totals,
        states=STATES,
    )


def _day(text: str) -> date | None:
    return date.fromisoformat(text.strip()) if text.strip() else None


routes = [
    Route("/sends", sends, methods=["GET"]),
    Route("/sends/export.csv", export, methods=["GET"]),
    Route("/sends/summary", summary, methods=["GET"]),
    Route("/sends/message/{sms_id:int}", message, methods=["GET"]),
    Route("/sends/group/{group_id:int}", group, methods=["GET"]),
    Route("/sends/message/{sms_id:int}/cancel", cancel_message, methods=["GET", "POST"]),
    Route("/sends/group/{group_id:int}/cancel", cancel_group, methods=["GET", "POST"]),
]
