"""The campaign service: a file of customers becomes a personalised group send.

An upload is kept in the database for a day, so that any API process can preview it and start
it. A preview reads the file, builds each row's text from the template and checks the rows as
the sending service checks a group's recipients (it charges nothing); a start hands the same
rows to ``Sending.group`` as a group with a text per recipient (one transaction for the debit,
as ``/group/sendMixed``) and records the campaign under the group's id.

Reading a file of a million rows takes seconds of CPU: it runs on a thread, so the event loop
keeps serving other requests meanwhile, and the recipients are checked a slice at a time. It is
read twice, for its shape and then a row at a time into compact columns, so that no object per
row is held; the file's bytes go once they are read.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from ileti import codes
from ileti.campaigns import memory
from ileti.campaigns.columns import phone_column
from ileti.campaigns.limits import FileLimits, FileRefused
from ileti.campaigns.preview import SAMPLES, Account, Preview, Tally, assess
from ileti.campaigns.rows import Reject, Rows, recipients
from ileti.campaigns.sheets import Sheet, open_sheet
from ileti.campaigns.template import Template, TemplateError
from ileti.codes import GatewayError
from ileti.config import Settings
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.lifecycle import MessageStatus
from ileti.sending.acceptance import kept_answer, unconsented
from ileti.sending.cancelling import Cancelled
from ileti.sending.identity import RequestIdentity
from ileti.sending.orders import (
    GroupSend,
    RecipientList,
    Recipients,
    Schedule,
    group_draft,
    schedule,
)
from ileti.sending.refusals import unknown_title
from ileti.sending.results import Accepted
from ileti.sending.service import SLICE_RECIPIENTS, SLICE_SECONDS, Caller, Sending
from ileti.store import campaigns as store
from ileti.store import consents
from ileti.store.db import Database
from ileti.store.messages import BLACKLIST_LOOKUP, account_titles, blacklisted, payer
from ileti.store.prices import prices_for
from ileti.store.reports import GroupView, find_group
from ileti.validation import ADVERTISING, invalid
from ileti.validation import sms_lang as lang_of

__all__ = ["CampaignView", "Campaigns", "FileUpload", "Options", "Preview", "Reject", "Started"]

HOUR_MS = 3_600_000
# A campaign without a name is named after its file.
NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class FileUpload:
    """A file as the user gave it."""

    file_name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Options:
    """How to read a file and what to send from it."""

    text: str  # the template: ``{Column}`` placeholders, ``{Column|default}``
    title: str
    phone_column: str | None = None  # found by its header or values when None
    sheet: str | None = None  # the first when None
    header: bool = True
    encoding: str | None = None  # a CSV's: UTF-8, else Windows-1254, when None
    sms_lang: object = "auto"
    content_type: object = None
    iys_recipient_type: object = None


@dataclass(frozen=True, slots=True)
class Started:
    campaign_id: int
    accepted: Accepted
    # The line of each recipient the group left out, in the order of ``accepted.rejected``.
    rejected_lines: tuple[int, ...]
    # Rows left out before the group was formed: no number, a damaged one, an empty
    # placeholder, a text over the cap.
    left_out: tuple[Reject, ...]


@dataclass(frozen=True, slots=True)
class CampaignView:
    id: int
    name: str
    file_name: str
    template: str
    title: str
    created_at: datetime
    due_at: datetime
    total: int  # rows given to the group (its recipients, rejected ones included)
    accepted: int
    counts: Mapping[MessageStatus, int]


class Campaigns:
    def __init__(
        self, db: Database, settings: Settings, sending: Sending, *, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.db = db
        self.clock = clock
        self.sending = sending
        self.limits = FileLimits.from_settings(settings)
        self.max_segments = settings.max_segments
        self.keep_ms = int(settings.campaign_upload_hours * HOUR_MS)

    async def upload(self, caller: Caller, upload: FileUpload) -> str:
        """Keeps a file for its preview and start; its id. Uploads past their day go."""
        if len(upload.data) > self.limits.max_bytes:
            raise GatewayError(
                codes.TOO_MANY_RECIPIENTS,
                f"The file has {len(upload.data):,} bytes; at most {self.limits.max_bytes:,}.",
            )
        if not upload.data:
            raise invalid("file", "is empty")
        upload_id = secrets.token_urlsafe(18)
        now_ms = self.clock.now_ms()
        async with self.db.write() as conn:
            await store.forget_uploads(conn, now_ms - self.keep_ms)
            await store.keep_upload(
                conn, upload_id, caller.account_id, upload.file_name[:255], upload.data, now_ms
            )
        return upload_id

    async def preview(self, caller: Caller, upload: FileUpload | str, options: Options) -> Preview:
        """What starting the file would send and cost; nothing is charged."""
        if isinstance(upload, str):
            upload_id, file = upload, await self._upload(caller, upload)
        else:
            upload_id, file = await self.upload(caller, upload), upload
        lang = lang_of(options.sms_lang)
        table, phone, rows = await asyncio.to_thread(self._read, file, options, lang)
        file_name = file.file_name
        del file, upload  # the file's bytes go before its recipients are checked
        send = GroupSend(
            title=options.title,
            numbers=rows.numbers,
            texts=rows.texts,
            sms_lang=options.sms_lang,
            content_type=options.content_type,
            iys_recipient_type=options.iys_recipient_type,
        )
        checked = await self._checked(send, rows)
        advertising = checked is not None and checked.draft.content_type == ADVERTISING
        account = await self._account(
            caller,
            options.title,
            checked.accepted if checked is not None else None,
            checked.draft.iys_recipient_type if checked is not None and advertising else None,
        )
        if checked is None:
            tally, rejects = Tally(), sorted(rows.rejects, key=_line)
            duplicates = blocked = no_consent = 0
        else:
            tally, rejects, duplicates, blocked, no_consent = assess(
                rows, checked, caller.account_id, account, advertising
            )
        return Preview(
            upload_id=upload_id,
            file_name=file_name,
            sheet=table.sheet,
            sheets=table.sheets,
            columns=table.columns,
            phone_column=table.columns[phone],
            rows=rows.total,
            valid=tally.valid,
            invalid=len(rejects) - duplicates - blocked - no_consent,
            duplicates=duplicates,
            blacklisted=blocked,
            no_consent=no_consent,
            segments=tally.segments,
            credits=tally.credits,
            international_kurus=tally.kurus,
            balance=account.credits,
            international_balance_kurus=account.international_kurus,
            encodings=dict(tally.encodings),
            samples=tally.samples[:SAMPLES],
            rejects=rejects,
        )

    async def start(
        self,
        caller: Caller,
        upload_id: str,
        options: Options,
        *,
        name: str | None = None,
        when: Schedule = Schedule(),
    ) -> Started:
        """Sends the file: a group with a text per row, charged in one transaction. Starting
        the same upload with the same options again answers the first start."""
        identity = _identity(upload_id, options, name, when)
        async with self.db.read() as conn:
            kept_first = await kept_answer(conn, caller.key_id, identity, self.clock.now_ms())
        if isinstance(kept_first, GatewayError):
            raise kept_first
        file = await self._upload(caller, upload_id)
        file_name = file.file_name
        if kept_first is not None and kept_first.group_id is not None:
            # Started before; recorded again in case the first start stopped before it was.
            await self._record(caller, kept_first.group_id, file_name, options, name, when)
            return Started(kept_first.group_id, kept_first, (), ())
        lang = lang_of(options.sms_lang)
        _, _, rows = await asyncio.to_thread(self._read, file, options, lang)
        del file  # the file's bytes go before its recipients are checked
        if not rows.numbers:
            raise GatewayError(
                codes.NUMBER_MISSING,
                f"No row of the file can be sent ({len(rows.rejects):,} rows left out).",
            )
        send = GroupSend(
            title=options.title,
            numbers=rows.numbers,
            texts=rows.texts,
            sms_lang=options.sms_lang,
            content_type=options.content_type,
            schedule=when,
            iys_recipient_type=options.iys_recipient_type,
        )
        accepted = await self.sending.group(
            caller, send, identity, max_recipients=max(self.limits.max_rows, 1)
        )
        assert accepted.group_id is not None
        await self._record(caller, accepted.group_id, file_name, options, name, when)
        lines = tuple(rows.lines[r.index] for r in accepted.rejected or ())
        return Started(accepted.group_id, accepted, lines, tuple(rows.rejects))

    async def rejects(self, caller: Caller, upload_id: str, options: Options) -> list[Reject]:
        """Every row a start would leave out, by line."""
        return (await self.preview(caller, upload_id, options)).rejects

    async def status(self, caller: Caller, campaign_id: int) -> CampaignView:
        async with self.db.read() as conn:
            campaign = await store.find(conn, caller.account_id, campaign_id)
        if campaign is None:
            raise GatewayError(codes.NOT_FOUND, "Unknown campaign_id for this account.")
        async with self.db.read(report=True) as conn:
            group = await find_group(conn, caller.account_id, campaign.id)
        return _view(campaign, group)

    async def list(
        self, caller: Caller, *, limit: int = 50, before: int | None = None
    ) -> tuple[list[CampaignView], int | None]:
        """A page of campaigns, newest first, and where the next starts (None: the last)."""
        async with self.db.read() as conn:
            found, next_before = await store.page(
                conn, caller.account_id, limit=limit, before=before
            )
        views = []
        async with self.db.read(report=True) as conn:
            for campaign in found:
                views.append(
                    _view(campaign, await find_group(conn, caller.account_id, campaign.id))
                )
        return views, next_before

    async def cancel(self, caller: Caller, campaign_id: int) -> Cancelled:
        """Stops what has not been handed to an operator yet, and refunds it."""
        async with self.db.read() as conn:
            campaign = await store.find(conn, caller.account_id, campaign_id)
        if campaign is None:
            raise GatewayError(codes.NOT_FOUND, "Unknown campaign_id for this account.")
        return await self.sending.cancel(caller, group_id=campaign.id)

    async def _upload(self, caller: Caller, upload_id: str) -> FileUpload:
        async with self.db.read() as conn:
            kept = await store.find_upload(
                conn, caller.account_id, upload_id, self.clock.now_ms() - self.keep_ms
            )
        if kept is None:
            raise GatewayError(
                codes.NOT_FOUND,
                "Unknown upload_id for this account (uploads are kept for"
                f" {self.keep_ms // HOUR_MS} hours).",
            )
        return FileUpload(kept.file_name, kept.bytes)

    def _read(self, file: FileUpload, options: Options, lang: Any) -> tuple[Sheet, int, Rows]:
        """The file read, its phone column found, each row's text built (on a thread)."""
        try:
            sheet = open_sheet(
                file.data,
                file.file_name,
                sheet=options.sheet,
                header=options.header,
                encoding=options.encoding,
                limits=self.limits,
            )
            phone = phone_column(sheet, options.phone_column)
        except FileRefused as exc:
            raise invalid("file", str(exc).rstrip(".")) from None
        try:
            template = Template.parse(options.text, sheet.columns)
        except TemplateError as exc:
            raise invalid("text", str(exc).rstrip(".")) from None
        try:
            return sheet, phone, recipients(sheet.rows(), phone, template, lang, self.max_segments)
        except FileRefused as exc:
            raise invalid("file", str(exc).rstrip(".")) from None
        finally:
            memory.give_back()

    async def _checked(self, send: GroupSend, rows: Rows) -> RecipientList | None:
        """The recipients checked as the group would check them, a slice at a time."""
        if not rows.numbers:
            return None
        draft = group_draft(send, self.max_segments, self.clock.now(), max(len(rows.numbers), 1))
        checked = RecipientList(draft, self.max_segments)
        while True:
            checked.check(SLICE_SECONDS, SLICE_RECIPIENTS)
            if checked.done:
                return checked
            await asyncio.sleep(0)

    async def _account(
        self,
        caller: Caller,
        title: str,
        accepted: Recipients | None,
        iys_recipient_type: str | None,
    ) -> Account:
        """The balances, the title's refusal, the blacklisted ones of the ``accepted``
        recipients' numbers, the international switch and prices, and for Advertising
        (``iys_recipient_type`` given) the numbers without İYS consent where the account
        enforces it, as the send will read them."""
        named: set[str] | None = set()
        if accepted is not None:
            many = len(accepted) > BLACKLIST_LOOKUP
            named = None if many else set(accepted.digit_strings())
        async with self.db.read() as conn:
            found = await payer(conn, caller.account_id, title)
            if found is None:
                raise GatewayError(codes.ACCOUNT_INACTIVE)
            if found.title_status is None:
                owned = await account_titles(conn, {caller.account_id})
                raise unknown_title(title, owned.get(caller.account_id, ()))
            if found.title_status != "active":
                raise GatewayError(codes.TITLE_INACTIVE)
            blocked = await blacklisted(conn, {caller.account_id}, named)
            prices = (await prices_for(conn, {caller.account_id}))[caller.account_id]
            missing: set[str] = set()
            if iys_recipient_type is not None and accepted is not None:
                brand = (await consents.enforced(conn, [caller.account_id])).get(caller.account_id)
                if brand is not None:
                    missing = await unconsented(
                        conn,
                        caller.account_id,
                        brand,
                        iys_recipient_type,
                        accepted.domestic_digits(),
                    )
        return Account(
            found.credits,
            found.international_kurus,
            found.international,
            blocked,
            prices,
            missing,
        )

    async def _record(
        self,
        caller: Caller,
        group_id: int,
        file_name: str,
        options: Options,
        name: str | None,
        when: Schedule,
    ) -> None:
        now = self.clock.now()
        due, _ = schedule(when, now)
        campaign = store.CampaignRecord(
            id=group_id,
            name=(name or file_name)[:NAME_LENGTH],
            file_name=file_name,
            template=options.text,
            created_at=now,
            due_at=due,
        )
        async with self.db.write() as conn:
            await store.record(conn, caller.account_id, group_id, campaign)


def _identity(
    upload_id: str, options: Options, name: str | None, when: Schedule
) -> RequestIdentity:
    """The upload and everything asked of it: a start repeated within the upload's day gets
    the first start's answer."""
    content = {
        "upload_id": upload_id,
        **asdict(options),
        "name": name,
        "schedule": [when.scheduled, when.date, when.time, when.validity_minutes],
    }
    digest = hashlib.sha256(repr(sorted(content.items())).encode()).hexdigest()[:32]
    return RequestIdentity.of("/campaign/start", content, f"campaign {upload_id} {digest}")


def _line(reject: Reject) -> int:
    return reject.line


def _view(campaign: store.CampaignRecord, group: GroupView | None) -> CampaignView:
    return CampaignView(
        id=campaign.id,
        name=campaign.name,
        file_name=campaign.file_name,
        template=campaign.template,
        title=group.title if group else "",
        created_at=campaign.created_at,
        due_at=campaign.due_at,
        total=group.total_recipients if group else 0,
        accepted=group.accepted if group else 0,
        counts=dict(group.counts) if group else dict.fromkeys(MessageStatus, 0),
    )
