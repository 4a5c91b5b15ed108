"""Campaigns from files: the uploads kept until they are started (or a day passes), and the
campaigns, each named by the id of the group its messages went in.

Every read is scoped to the account: another account's upload or campaign reads exactly like
an unknown one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.store.message_span import MAX_ID
from ileti.store.sql import Raw, reader


@dataclass(frozen=True, slots=True)
class UploadRecord:
    id: str
    file_name: str
    bytes: bytes
    created_ms: int


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    id: int
    name: str
    file_name: str
    template: str
    created_at: datetime
    due_at: datetime


_upload = reader(UploadRecord)
_campaign = reader(CampaignRecord)
_KEEP_UPLOAD = Raw(
    "INSERT INTO campaign_uploads (id, account_id, file_name, bytes, created_ms)"
    " VALUES ($1, $2, $3, $4, $5)"
)
_UPLOAD = Raw(
    "SELECT id, file_name, bytes, created_ms FROM campaign_uploads"
    " WHERE id = $1 AND account_id = $2 AND created_ms >= $3"
)
_FORGET_UPLOADS = Raw("DELETE FROM campaign_uploads WHERE created_ms < $1")
_RECORD = Raw(
    "INSERT INTO campaigns (id, account_id, name, file_name, template, created_at, due_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING"
)
_COLUMNS = "SELECT id, name, file_name, template, created_at, due_at FROM campaigns"
_ONE = Raw(_COLUMNS + " WHERE id = $1 AND account_id = $2")
_PAGE = Raw(_COLUMNS + " WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3")


async def keep_upload(
    conn: AsyncConnection,
    upload_id: str,
    account_id: int,
    file_name: str,
    data: bytes,
    now_ms: int,
) -> None:
    await _KEEP_UPLOAD.run(conn, upload_id, account_id, file_name, data, now_ms)


async def find_upload(
    conn: AsyncConnection, account_id: int, upload_id: str, since_ms: int
) -> UploadRecord | None:
    """The account's upload, unless it was made before ``since_ms`` (it has expired)."""
    row = await _UPLOAD.first(conn, upload_id, account_id, since_ms)
    return _upload(row) if row is not None else None


async def forget_uploads(conn: AsyncConnection, before_ms: int) -> int:
    """Drops the uploads made before ``before_ms``; how many."""
    return await _FORGET_UPLOADS.run(conn, before_ms)


async def record(
    conn: AsyncConnection, account_id: int, group_id: int, campaign: CampaignRecord
) -> None:
    """Records a campaign under its group's id; recording it again changes nothing."""
    await _RECORD.run(
        conn,
        group_id,
        account_id,
        campaign.name,
        campaign.file_name,
        campaign.template,
        campaign.created_at,
        campaign.due_at,
    )


async def find(conn: AsyncConnection, account_id: int, campaign_id: int) -> CampaignRecord | None:
    if not 0 < campaign_id <= MAX_ID:
        return None
    row = await _ONE.first(conn, campaign_id, account_id)
    return _campaign(row) if row is not None else None


async def page(
    conn: AsyncConnection, account_id: int, *, limit: int, before: int | None
) -> tuple[list[CampaignRecord], int | None]:
    """Up to ``limit`` campaigns with ids below ``before``, newest first, and where the next
    page starts (None on the last)."""
    below = MAX_ID if before is None else min(before, MAX_ID)
    rows = await _PAGE.rows(conn, account_id, below, limit + 1)
    found = [_campaign(row) for row in rows[:limit]]
    return found, found[-1].id if len(rows) > limit else None
