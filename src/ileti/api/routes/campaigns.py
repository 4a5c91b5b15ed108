"""Campaigns from files: ``/campaign/preview`` (a multipart upload), ``/campaign/rejects``
(every row left out, as CSV), ``/campaign/start``, ``/campaign/status``, ``/campaign/list``
and ``/campaign/cancel``."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from ileti import codes
from ileti.api.endpoint import Context, Reply, endpoint
from ileti.api.forms import FormBody, FormFile
from ileti.api.routes.sms import SEND_ERRORS
from ileti.api.schemas import (
    CampaignIdRequest,
    CampaignListRequest,
    CampaignListResponse,
    CampaignOptions,
    CampaignPreviewRequest,
    CampaignPreviewResponse,
    CampaignRejectsRequest,
    CampaignStartRequest,
    CampaignStartResponse,
    CampaignStatusResponse,
    CancelResponse,
    Envelope,
    timestamp,
)
from ileti.campaigns.service import CampaignView, FileUpload, Options, Preview, Reject
from ileti.domain.lifecycle import MessageStatus
from ileti.domain.permissions import Permission
from ileti.validation import invalid

router = APIRouter()

# Rejects listed in an answer; the CSV has them all.
SHOWN_REJECTS = 1_000
# An upload's body: the file and the other fields of the form.
_FORM_ROOM = 64 * 1024
_UPLOAD = FormBody(lambda settings: settings.campaign_max_bytes + _FORM_ROOM)
_FILE_ERRORS = (*SEND_ERRORS, codes.NOT_FOUND)


def _options(body: CampaignOptions | CampaignStartRequest) -> Options:
    if body.text is None:
        raise invalid("text", "is required")
    if body.title is None:
        raise invalid("title", "is required")
    return Options(
        text=body.text,
        title=body.title,
        phone_column=body.phone_column,
        sheet=body.sheet,
        header=True if body.header is None else body.header,
        encoding=body.encoding,
        sms_lang="auto" if body.sms_lang is None else body.sms_lang,
        content_type=body.content_type,
        iys_recipient_type=body.iys_recipient_type,
    )


def _reject(reject: Reject) -> dict[str, Any]:
    return {
        "row": reject.line,
        "sentto": reject.sentto,
        "reason": reject.reason,
        "result_code": reject.result.code,
    }


def _preview_fields(preview: Preview) -> dict[str, Any]:
    return {
        "upload_id": preview.upload_id,
        "file_name": preview.file_name,
        "sheet": preview.sheet,
        "sheets": preview.sheets,
        "columns": preview.columns,
        "phone_column": preview.phone_column,
        "rows": preview.rows,
        "valid": preview.valid,
        "invalid": preview.invalid,
        "duplicates": preview.duplicates,
        "blacklisted": preview.blacklisted,
        "no_consent": preview.no_consent,
        "segments": preview.segments,
        "credits": preview.credits,
        "international_kurus": preview.international_kurus,
        "balance": preview.balance,
        "international_balance_kurus": preview.international_balance_kurus,
        "encodings": dict(preview.encodings),
        "samples": [
            {
                "row": s.line,
                "sentto": s.sentto,
                "text": s.text,
                "sms_lang": s.sms_lang,
                "segments": s.segments,
            }
            for s in preview.samples
        ],
        "rejects": [_reject(r) for r in preview.rejects[:SHOWN_REJECTS]],
        "rejects_total": len(preview.rejects),
    }


def _campaign_fields(view: CampaignView) -> dict[str, Any]:
    return {
        "id": view.id,
        "name": view.name,
        "file_name": view.file_name,
        "template": view.template,
        "title": view.title,
        "created_at": timestamp(view.created_at),
        "due_at": timestamp(view.due_at),
        "total": view.total,
        "accepted": view.accepted,
        **{status.value: view.counts.get(status, 0) for status in MessageStatus},
    }


def rejects_csv(rejects: list[Reject]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "sentto", "reason", "result_code"])
    for reject in rejects:
        writer.writerow([reject.line, reject.sentto, reject.reason, reject.result.code])
    return out.getvalue()


@endpoint(
    router,
    "/campaign/preview",
    summary="Upload a file of customers (multipart/form-data) and see what its campaign would"
    " send and cost; nothing is charged.",
    request_model=CampaignPreviewRequest,
    response_model=CampaignPreviewResponse,
    success_code=codes.OPERATION_OK,
    permission=Permission.SEND_BULK_SMS,
    errors=_FILE_ERRORS,
    tags=("campaigns",),
    form=_UPLOAD,
)
async def campaign_preview(ctx: Context, body: CampaignPreviewRequest) -> Reply:
    if not isinstance(body.file, FormFile):
        raise invalid("file", "is required: an .xlsx, .xls, .ods or .csv file")
    upload = FileUpload(body.file.file_name, body.file.data)
    preview = await ctx.services.campaigns.preview(ctx.caller, upload, _options(body))
    return Reply(codes.OPERATION_OK, _preview_fields(preview))


@endpoint(
    router,
    "/campaign/rejects",
    summary="Every row of an uploaded file that its campaign would leave out, as CSV.",
    request_model=CampaignRejectsRequest,
    response_model=Envelope,
    success_code=codes.OPERATION_OK,
    permission=Permission.SEND_BULK_SMS,
    errors=_FILE_ERRORS,
    tags=("campaigns",),
    answer_type="text/csv",
)
async def campaign_rejects(ctx: Context, body: CampaignRejectsRequest) -> Reply:
    if body.upload_id is None:
        raise invalid("upload_id", "is required")
    rejects = await ctx.services.campaigns.rejects(ctx.caller, body.upload_id, _options(body))
    return Reply(
        codes.OPERATION_OK,
        response=Response(
            rejects_csv(rejects),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="rejects.csv"'},
        ),
    )


@endpoint(
    router,
    "/campaign/start",
    summary="Send an uploaded file as a campaign: a group with each row's own text.",
    request_model=CampaignStartRequest,
    response_model=CampaignStartResponse,
    success_code=codes.SMS_ACCEPTED,
    permission=Permission.SEND_BULK_SMS,
    errors=_FILE_ERRORS,
    tags=("campaigns",),
)
async def campaign_start(ctx: Context, body: CampaignStartRequest) -> Reply:
    if body.upload_id is None:
        raise invalid("upload_id", "is required")
    started = await ctx.services.campaigns.start(
        ctx.caller,
        body.upload_id,
        _options(body),
        name=body.name,
        when=body.schedule(),
    )
    fields = started.accepted.fields()
    for entry, line in zip(fields.get("rejected", ()), started.rejected_lines, strict=False):
        entry["row"] = line
    fields["campaign_id"] = started.campaign_id
    fields["left_out"] = [_reject(r) for r in started.left_out[:SHOWN_REJECTS]]
    fields["left_out_total"] = len(started.left_out)
    return Reply(codes.SMS_ACCEPTED, fields)


@endpoint(
    router,
    "/campaign/status",
    summary="A campaign and its messages' counts per state.",
    request_model=CampaignIdRequest,
    response_model=CampaignStatusResponse,
    success_code=codes.OPERATION_OK,
    permission=Permission.CHECK_SMS_STATUS,
    errors=(codes.NOT_FOUND,),
    tags=("campaigns",),
)
async def campaign_status(ctx: Context, body: CampaignIdRequest) -> Reply:
    view = await ctx.services.campaigns.status(ctx.caller, body.campaign_id)
    return Reply(codes.OPERATION_OK, {"campaign": _campaign_fields(view)})


@endpoint(
    router,
    "/campaign/list",
    summary="The account's campaigns, newest first.",
    request_model=CampaignListRequest,
    response_model=CampaignListResponse,
    success_code=codes.OPERATION_OK,
    permission=Permission.CHECK_SMS_STATUS,
    tags=("campaigns",),
)
async def campaign_list(ctx: Context, body: CampaignListRequest) -> Reply:
    views, next_before = await ctx.services.campaigns.list(
        ctx.caller, limit=body.limit, before=body.before
    )
    return Reply(
        codes.OPERATION_OK,
        {"campaigns": [_campaign_fields(v) for v in views], "next_before": next_before},
    )


@endpoint(
    router,
    "/campaign/cancel",
    summary="Cancel a campaign's messages that no operator has yet, and refund them.",
    request_model=CampaignIdRequest,
    response_model=CancelResponse,
    success_code=codes.OPERATION_OK,
    permission=Permission.SEND_BULK_SMS,
    errors=(codes.NOT_FOUND,),
    tags=("campaigns",),
)
async def campaign_cancel(ctx: Context, body: CampaignIdRequest) -> Reply:
    done = await ctx.services.campaigns.cancel(ctx.caller, body.campaign_id)
    return Reply(
        codes.OPERATION_OK,
        {
            "cancelled": done.cancelled,
            "refunded_credits": done.refunded_credits,
            "refunded_international": done.refunded_kurus,
            "left": done.left,
        },
    )
