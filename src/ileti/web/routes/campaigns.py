"""Excel to SMS in the panel: upload a customer list, map its columns, write the template with
the columns offered as placeholders, see the first row personalised as it is typed, preview
the counts and costs, start, then follow the campaign as receipts arrive, and cancel it.

Everything goes through the campaign service as the API's campaign endpoints use it: the
upload is kept there (for a day), and each preview reads it again with the form's options.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.routing import Route

from ileti import codes
from ileti.campaigns.preview import Preview
from ileti.campaigns.service import CampaignView, FileUpload, Options
from ileti.codes import GatewayError
from ileti.domain.lifecycle import MessageStatus
from ileti.sending.orders import Schedule
from ileti.web.pages import Screen, page
from ileti.web.routes.send import CONTENT_TYPES, LANGS, schedule_at
from ileti.web.routes.sends import BOM, ENCODINGS

PAGE_SIZE = 50
# Rows left out shown on the page; the CSV file has every one.
SHOWN_REJECTS = 100
# The preview's counts, in the order the page shows them.
COUNTS = (
    ("rows", "Rows"),
    ("valid", "Will be sent"),
    ("invalid", "Invalid"),
    ("duplicates", "Duplicates"),
    ("blacklisted", "Blacklisted"),
    ("no_consent", "No İYS consent"),
    ("segments", "Segments"),
    ("credits", "Credits"),
    ("balance", "Credits available"),
)
# A campaign's messages by state, as its page shows them.
STATES = (
    ("accepted", "Accepted"),
    ("queued", "Waiting to be sent"),
    ("sent", "Sent, awaiting report"),
    ("delivered", "Delivered"),
    ("failed", "Failed"),
    ("expired", "Expired"),
    ("cancelled", "Cancelled"),
)
FINAL = ("delivered", "failed", "expired", "cancelled")


@dataclass(frozen=True, slots=True)
class CampaignForm:
    """The compose form as posted (the sheet and columns as the file was last read)."""

    title: str = ""
    text: str = ""
    sheet: str = ""
    header: bool = True
    phone_column: str = ""
    sms_lang: str = "auto"
    content_type: str = "0"
    iys_recipient_type: str = "BIREYSEL"
    name: str = ""
    scheduled_at: str = ""
    # The sheet and header the phone column was chosen under: another reading of the file has
    # other columns, and its phone column is found again.
    read_as: str = ""

    @classmethod
    def posted(cls, screen: Screen) -> CampaignForm:
        return cls(
            title=screen.field("title"),
            # Browsers post a textarea's line breaks as CRLF; the user typed one character.
            text=screen.field("text").replace("\r\n", "\n"),
            sheet=screen.field("sheet"),
            header=screen.field("header") == "true",
            phone_column=screen.field("phone_column"),
            sms_lang=screen.field("sms_lang", "auto"),
            content_type=screen.field("content_type", "0"),
            iys_recipient_type=screen.field("iys_recipient_type", "BIREYSEL"),
            name=screen.field("name").strip(),
            scheduled_at=screen.field("scheduled_at").strip(),
            read_as=screen.field("read_as"),
        )

    @property
    def reading(self) -> str:
        return _reading(self.sheet, self.header)

    def options(self) -> Options:
        same_reading = self.read_as == self.reading
        return Options(
            text=self.text,
            title=self.title,
            phone_column=(self.phone_column or None) if same_reading else None,
            sheet=self.sheet or None,
            header=self.header,
            sms_lang=self.sms_lang,
            content_type=_whole_or_given(self.content_type),
            iys_recipient_type=self.iys_recipient_type,
        )

    def schedule(self) -> Schedule:
        return schedule_at(self.scheduled_at)

    def previewed(self, preview: Preview) -> dict[str, str]:
        """The fields that start exactly what was previewed."""
        return {
            "title": self.title,
            "text": self.text,
            "sheet": preview.sheet or "",
            "header": "true" if self.header else "",
            "phone_column": preview.phone_column,
            "sms_lang": self.sms_lang,
            "content_type": self.content_type,
            "iys_recipient_type": self.iys_recipient_type,
            "name": self.name,
            "scheduled_at": self.scheduled_at,
            "read_as": _reading(preview.sheet or "", self.header),
        }


def _reading(sheet: str, header: bool) -> str:
    """A sheet and header choice as one form value (the digit first: a sheet's name is any text)."""
    return f"{int(header)}{sheet}"


def _whole_or_given(value: str) -> int | str | None:
    """A form's number as the service takes one; anything else as given, for it to refuse."""
    if not value:
        return None
    return int(value) if value.isascii() and value.isdigit() else value


def _refusal(screen: Screen, error: GatewayError) -> str:
    """The refusal in the panel's language; the service's own English words where the
    catalogue has none for them (a file's or a template's problem names its columns)."""
    said = screen.refusal(error)
    if screen.t.lang == "en" or error.message == error.result.message:
        return said
    if screen.t.text(error.message) != error.message:
        return said
    return f"{screen.refusal(GatewayError(error.result))} — {error.message}"


def _is_not_found(error: GatewayError) -> bool:
    return error.result is codes.NOT_FOUND


@page
async def campaigns(screen: Screen) -> Response:
    before = screen.query.get("before", "")
    cursor = int(before) if before.isascii() and before.isdigit() else None
    found, next_before = await screen.services.campaigns.list(
        await screen.caller(), limit=PAGE_SIZE, before=cursor
    )
    return screen.render(
        "campaigns/list.html",
        campaigns=[_view(c) for c in found],
        paged=cursor is not None,
        next_page=f"/panel/campaigns?before={next_before}" if next_before else None,
    )


@page
async def new(screen: Screen) -> Response:
    if screen.form is None:
        return _new_page(screen)
    file = screen.form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return _new_page(screen, screen.t.text("Choose a file to upload."), 400)
    upload = FileUpload(file.filename, await file.read())
    try:
        upload_id = await screen.services.campaigns.upload(await screen.caller(), upload)
    except GatewayError as error:
        return _new_page(screen, _refusal(screen, error), error.result.http_status)
    return screen.redirect(f"/panel/campaigns/upload/{upload_id}")


def _new_page(screen: Screen, refusal: str = "", status: int = 200) -> Response:
    max_bytes = screen.services.settings.campaign_max_bytes
    return screen.render(
        "campaigns/new.html",
        status=status,
        refusal=refusal,
        max_size=f"{screen.t.number(max_bytes / 1024 / 1024)} MB",
    )


@page
async def compose(screen: Screen) -> Response:
    """The file read with the form's options: a GET reads it as found, a POST previews."""
    upload_id = screen.request.path_params["upload_id"]
    titles = await _titles(screen)
    form = (
        CampaignForm.posted(screen)
        if screen.form is not None
        else CampaignForm(title=titles[0] if titles else "")
    )
    try:
        preview = await _preview(screen, upload_id, form)
    except GatewayError as error:
        if _is_not_found(error):
            return screen.not_found()
        return await _refused_page(screen, upload_id, form, titles, error)
    return await _compose_page(
        screen, upload_id, form, titles, preview, show_preview=screen.form is not None
    )


async def _preview(screen: Screen, upload_id: str, form: CampaignForm) -> Preview:
    caller = await screen.caller()
    return await screen.services.campaigns.preview(caller, upload_id, form.options())


async def _refused_page(
    screen: Screen, upload_id: str, form: CampaignForm, titles: list[str], error: GatewayError
) -> Response:
    """The form again with the refusal; its columns from the file read without the template
    and with its phone column found anew, when that much can be read."""
    try:
        columns = await _preview(
            screen, upload_id, replace(form, text="", phone_column="", read_as="")
        )
    except GatewayError:
        columns = None
    return await _compose_page(
        screen,
        upload_id,
        form,
        titles,
        columns,
        refusal=_refusal(screen, error),
        status=error.result.http_status,
    )


async def _compose_page(
    screen: Screen,
    upload_id: str,
    form: CampaignForm,
    titles: list[str],
    preview: Preview | None,
    *,
    show_preview: bool = False,
    refusal: str = "",
    status: int = 200,
) -> Response:
    """The form; ``preview``: the file as read with the form (with a refusal: as far as it
    could be read, for its columns)."""
    if preview is not None:
        sheet: Any = preview
        form = _read_as(form, preview)
    else:
        sheet = {"file_name": "", "sheets": [], "sheet": form.sheet, "columns": []}
    first, problem = (None, "") if refusal else _first_row(screen, form, preview)
    return screen.render(
        "campaigns/compose.html",
        status=status,
        upload_id=upload_id,
        form=form,
        sheet=sheet,
        titles=titles,
        langs=LANGS,
        content_types=CONTENT_TYPES,
        refusal=refusal,
        first=first,
        problem=problem,
        preview=preview if show_preview and not refusal else None,
        counts=COUNTS,
        shown_rejects=SHOWN_REJECTS,
        previewed=form.previewed(preview) if preview is not None else {},
        rejects_link=_rejects_link(upload_id, form, preview),
    )


def _read_as(form: CampaignForm, preview: Preview) -> CampaignForm:
    """The form with the reading the preview made (the sheet and phone column it found)."""
    return replace(
        form,
        sheet=preview.sheet or "",
        phone_column=preview.phone_column,
        read_as=_reading(preview.sheet or "", form.header),
    )


@dataclass(frozen=True, slots=True)
class FirstRow:
    row: int
    sentto: str
    text: str
    encoding: str
    characters: int
    segments: int


def _first_row(
    screen: Screen, form: CampaignForm, preview: Preview | None
) -> tuple[FirstRow | None, str]:
    """The first row that will be sent, as its recipient reads it; or why none will be."""
    if preview is None or not form.text.strip():
        return None, ""
    if preview.samples:
        sample = preview.samples[0]
        return FirstRow(
            sample.line,
            sample.sentto,
            sample.text,
            ENCODINGS.get(sample.sms_lang, sample.sms_lang),
            len(sample.text),
            sample.segments,
        ), ""
    if preview.rejects:
        first = preview.rejects[0]
        return None, screen.t.text(
            "No row can be sent as written. Row {row}: {reason}",
            row=screen.t.number(first.line),
            reason=screen.t.text(first.reason),
        )
    return None, screen.t.text("The sheet has no rows.")


def _rejects_link(upload_id: str, form: CampaignForm, preview: Preview | None) -> str:
    if preview is None:
        return ""
    query = urlencode(form.previewed(preview))
    return f"/panel/campaigns/upload/{upload_id}/rejects.csv?{query}"


@page
async def counter(screen: Screen) -> Response:
    """The first row personalised, for the compose form's live updates."""
    upload_id = screen.request.path_params["upload_id"]
    form = CampaignForm.posted(screen)
    try:
        preview = await _preview(screen, upload_id, form)
    except GatewayError as error:
        if _is_not_found(error):
            return screen.not_found()
        return screen.render(
            "campaigns/first_row.html", first=None, problem=_refusal(screen, error)
        )
    first, problem = _first_row(screen, form, preview)
    return screen.render("campaigns/first_row.html", first=first, problem=problem)


@page
async def rejects(screen: Screen) -> Response:
    """Every row the preview leaves out, as a CSV file Excel opens with its Turkish letters."""
    upload_id = screen.request.path_params["upload_id"]
    query = screen.query
    form = CampaignForm(
        title=query.get("title", ""),
        text=query.get("text", ""),
        sheet=query.get("sheet", ""),
        header=query.get("header", "") == "true",
        phone_column=query.get("phone_column", ""),
        sms_lang=query.get("sms_lang", "auto"),
        content_type=query.get("content_type", "0"),
        iys_recipient_type=query.get("iys_recipient_type", "BIREYSEL"),
        read_as=query.get("read_as", ""),
    )
    try:
        found = await screen.services.campaigns.rejects(
            await screen.caller(), upload_id, form.options()
        )
    except GatewayError as error:
        if _is_not_found(error):
            return screen.not_found()
        return screen.render(
            "campaigns/new.html", status=400, refusal=_refusal(screen, error), max_size=""
        )
    t = screen.t
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t.text("Row"), t.text("Number"), t.text("Reason"), t.text("Code")])
    for reject in found:
        writer.writerow([reject.line, reject.sentto, t.text(reject.reason), reject.result.code])
    return Response(
        BOM + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="rows-left-out.csv"'},
    )


@page
async def start(screen: Screen) -> Response:
    upload_id = screen.request.path_params["upload_id"]
    form = CampaignForm.posted(screen)
    try:
        started = await screen.services.campaigns.start(
            await screen.caller(),
            upload_id,
            form.options(),
            name=form.name or None,
            when=form.schedule(),
        )
    except GatewayError as error:
        if _is_not_found(error):
            return screen.not_found()
        return await _refused_page(screen, upload_id, form, await _titles(screen), error)
    return screen.redirect(f"/panel/campaigns/{started.campaign_id}")


@page
async def show(screen: Screen) -> Response:
    """A campaign's progress; htmx asks for the counts alone every 2 s until they are final."""
    found = await _campaign(screen)
    if found is None:
        return screen.not_found()
    view = _view(found)
    context = {"c": view, "final": view["final"], "states": STATES}
    if screen.htmx:
        return screen.render("campaigns/_status.html", **context)
    notice = ""
    if screen.query.get("cancelled", "").isdigit():
        notice = screen.t.text(
            "{count} messages cancelled; their credits are back on the account.",
            count=screen.t.number(int(screen.query["cancelled"])),
        )
    return screen.render("campaigns/show.html", notice=notice, **context)


@page
async def cancel(screen: Screen) -> Response:
    """A confirmation first (GET), then the cancel (POST)."""
    found = await _campaign(screen)
    if found is None:
        return screen.not_found()
    if screen.form is None:
        return screen.render("campaigns/cancel.html", c=_view(found))
    cancelled = await screen.services.campaigns.cancel(await screen.caller(), found.id)
    return screen.redirect(f"/panel/campaigns/{found.id}?cancelled={cancelled.cancelled}")


async def _campaign(screen: Screen) -> CampaignView | None:
    """The account's campaign named in the path; None for another account's or none."""
    given = screen.request.path_params["campaign_id"]
    if not given.isascii() or not given.isdigit():
        return None
    try:
        return await screen.services.campaigns.status(await screen.caller(), int(given))
    except GatewayError as error:
        if _is_not_found(error):
            return None
        raise


def _view(campaign: CampaignView) -> dict[str, Any]:
    """A campaign as the templates read it: its facts and a count per state."""
    counts = {status.value: 0 for status in MessageStatus}
    counts.update({status.value: count for status, count in campaign.counts.items()})
    done = sum(counts[state] for state in FINAL)
    return {
        "id": campaign.id,
        "name": campaign.name,
        "file_name": campaign.file_name,
        "template": campaign.template,
        "title": campaign.title,
        "created_at": campaign.created_at,
        "due_at": campaign.due_at,
        "total": campaign.total,
        "accepted": campaign.accepted,
        "done": done,
        "final": done >= campaign.accepted,
        **counts,
    }


async def _titles(screen: Screen) -> list[str]:
    titles = await screen.services.accounts.titles(screen.account_id)
    return [t.title for t in titles if t.status == "active"]


routes = [
    Route("/campaigns", campaigns, methods=["GET"]),
    Route("/campaigns/new", new, methods=["GET", "POST"]),
    Route("/campaigns/upload/{upload_id}", compose, methods=["GET", "POST"]),
    Route("/campaigns/upload/{upload_id}/counter", counter, methods=["POST"]),
    Route("/campaigns/upload/{upload_id}/rejects.csv", rejects, methods=["GET"]),
    Route("/campaigns/upload/{upload_id}/start", start, methods=["POST"]),
    Route("/campaigns/{campaign_id}", show, methods=["GET"]),
    Route("/campaigns/{campaign_id}/cancel", cancel, methods=["GET", "POST"]),
]
