"""Messages for tests: built as the send endpoints build them, stored debited and queued, or
written straight into ``messages`` as rows already on their way."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ileti.domain.pricing import Balance
from ileti.store.db import Database
from ileti.store.messages import NewMessage, Stored, Submission, store

# The first of the numbers a test sends to, one after another.
FIRST_NUMBER = 905320000000


def new_message(
    sentto: str,
    segments: int = 1,
    *,
    international: bool = False,
    country: str | None = None,
    operator: str | None = None,
    text: str = "Merhaba",
    sms_lang: str = "Turkish",
    lang: str = "1",
) -> NewMessage:
    """A message of ``segments`` parts to a Turkish number, a credit a part from the main
    balance; ``international``, to a German one, 150 kuruş a part from the international
    balance."""
    return NewMessage(
        sentto=sentto,
        country=country or ("Germany-DE" if international else "Turkey-TR"),
        operator=operator,
        text=text,
        sms_lang=sms_lang,
        lang=lang,
        segments=segments,
        cost=segments * 150 if international else segments,
        cost_balance=Balance.INTERNATIONAL if international else Balance.MAIN,
    )


def submission(
    account_id: int,
    messages: Sequence[NewMessage],
    at: datetime,
    *,
    key_id: int = 1,
    title: str = "ACME",
    kind: str | None = None,
    grouped: bool = False,
    priority: int = 1,
    due_at: datetime | None = None,
    validity: timedelta = timedelta(days=1),
) -> Submission:
    """A send request made ``at``: due then or at ``due_at``, valid for ``validity`` from when it
    is due. Its kind is ``group`` when ``grouped``, else ``single``, unless ``kind`` says."""
    due = due_at or at
    return Submission(
        account_id=account_id,
        key_id=key_id,
        title=title,
        kind=kind or ("group" if grouped else "single"),
        content_type=0,
        priority=priority,
        created_at=at,
        due_at=due,
        expires_at=due + validity,
        messages=list(messages),
        grouped=grouped,
        total_recipients=len(messages),
    )


async def accept(db: Database, request: Submission) -> Stored:
    """Debits, stores and queues ``request`` in a transaction of its own."""
    async with db.write() as conn:
        return await store(conn, request)


def message_row(
    message_id: int,
    account_id: int,
    *,
    status: str,
    created_at: datetime,
    title: str = "ACME",
    group_id: int | None = None,
) -> dict[str, Any]:
    """A row of ``messages`` for an insert of many at once: one attempt made, due when created
    and valid for a day, with no debit and no queue entry."""
    return {
        "id": message_id,
        "account_id": account_id,
        "key_id": 1,
        "group_id": group_id,
        "kind": "single",
        "title": title,
        "sentto": f"905{message_id:09d}",
        "country": "Turkey",
        "text": "Siparişiniz yola çıktı",
        "sms_lang": "1",
        "lang": "1",
        "segments": 1,
        "content_type": 0,
        "status": status,
        "cost": 0,
        "cost_balance": "main",
        "created_at": created_at,
        "due_at": created_at,
        "expires_at": created_at + timedelta(days=1),
        "attempts": 1,
    }
