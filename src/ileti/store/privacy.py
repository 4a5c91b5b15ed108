"""KVKK in storage: what is kept about one phone number, read for an export or replaced by a
keyed hash for an erasure; and message texts emptied once their retention is over.

A number is looked up in both forms it can be stored in: its digits, and the hash an erasure put
in their place, so an erased person's rows are still found by whoever has the number. The ledger,
the İYS consent records and the blacklist are never changed here: they are the account's and the
brand's proof, and the blacklist is what keeps honouring the person's refusal (an erased number
must still not be sent to). Every lookup goes through an index that leads with the account (or
the key, or the contact group), so a number is found among millions of messages in a few probes
per account.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.clock import from_ms
from ileti.domain.lifecycle import FINAL, MessageStatus
from ileti.domain.numbers import lookup
from ileti.store.sql import Raw, Row, maybe_moment, moment

_FINAL = sorted(state.value for state in FINAL)
# A row as an export shows it.
Record = dict[str, Any]

# Reads, for an export: the accounts' rows ($1) under either form of the number ($2).
_KEYS = Raw("SELECT id, account_id FROM api_keys WHERE account_id = ANY($1)")


@dataclass(frozen=True, slots=True)
class _Read:
    """A read of one table's rows about the number, and how its columns become JSON."""

    table: str
    statement: Raw
    columns: tuple[str, ...]
    times: tuple[str, ...] = ()
    # Times kept as epoch milliseconds.
    ms: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()

    def record(self, row: Row) -> Record:
        record = {name: row[name] for name in self.columns}
        for name in self.times:
            record[name] = maybe_moment(record[name])
        for name in self.ms:
            record[name] = None if record[name] is None else from_ms(record[name])
        for name in self.flags:
            record[name] = bool(record[name])
        return record


def _select(columns: tuple[str, ...], rest: str) -> Raw:
    return Raw(f"SELECT {', '.join(columns)} {rest}")


_MESSAGE_COLUMNS = (
    "id", "account_id", "kind", "group_id", "title", "sentto", "country", "operator", "text",
    "sms_lang", "segments", "status", "cost", "cost_balance", "created_at", "due_at", "sent_at",
    "done_at", "error_reason", "purged_at",
)  # fmt: skip
_MESSAGES = _Read(
    "messages",
    Raw(
        "SELECT "
        + ", ".join(
            "CASE WHEN purged_at IS NULL THEN text END AS text" if name == "text" else name
            for name in _MESSAGE_COLUMNS
        )
        + " FROM messages WHERE account_id = ANY($1) AND sentto = ANY($2) ORDER BY id"
    ),
    _MESSAGE_COLUMNS,
    times=("created_at", "due_at", "sent_at", "done_at", "purged_at"),
)
_OTP_COLUMNS = (
    "id", "account_id", "message_id", "sentto", "region", "created_ms", "expires_ms", "status",
    "verified_ms",
)  # fmt: skip
_OTPS = _Read(
    "otps",
    _select(
        _OTP_COLUMNS,
        "FROM otps WHERE account_id = ANY($1) AND sentto = ANY($2) ORDER BY created_ms",
    ),
    _OTP_COLUMNS,
    ms=("created_ms", "expires_ms", "verified_ms"),
)
_BLACKLIST_COLUMNS = ("account_id", "number", "scope", "source", "created_at")
_BLACKLIST = _Read(
    "blacklist",
    _select(
        _BLACKLIST_COLUMNS,
        "FROM blacklist WHERE account_id = ANY($1) AND number = ANY($2) ORDER BY id",
    ),
    _BLACKLIST_COLUMNS,
    times=("created_at",),
)
_CONTACTS = _Read(
    "contacts",
    Raw(
        "SELECT g.account_id, g.name AS contact_group, c.number, c.first_name, c.last_name,"
        " c.created_at FROM contact_groups AS g JOIN contacts AS c ON c.group_id = g.id"
        " WHERE g.account_id = ANY($1) AND c.number = ANY($2) ORDER BY c.id"
    ),
    ("account_id", "contact_group", "number", "first_name", "last_name", "created_at"),
    times=("created_at",),
)
_CONSENT_COLUMNS = (
    "account_id", "brand_code", "recipient", "recipient_type", "type", "status", "source",
    "consent_date", "origin", "latest", "sync_state", "created_at",
)  # fmt: skip
_CONSENTS = _Read(
    "consents",
    _select(
        _CONSENT_COLUMNS,
        "FROM consents WHERE account_id = ANY($1) AND recipient = ANY($2) ORDER BY id",
    ),
    _CONSENT_COLUMNS,
    times=("consent_date", "created_at"),
    flags=("latest",),
)
# An event names its message's number as ``"sentto":"…"`` (orjson writes no spaces).
_EVENTS = _Read(
    "webhook_events",
    Raw(
        "SELECT id, key_id, event_type, status, created_ms, body FROM webhook_events"
        " WHERE key_id = ANY($1) AND (body LIKE $2 OR body LIKE $3) ORDER BY created_ms"
    ),
    ("id", "key_id", "event_type", "status", "created_ms", "body"),
    ms=("created_ms",),
)
_READS = (_MESSAGES, _OTPS, _BLACKLIST, _CONTACTS, _CONSENTS)
# Kept answers name the recipients a group left out as the caller wrote them: read those that
# have any, and match them here.
_KEPT = Raw(
    "SELECT key_id, fingerprint, body, expires_ms FROM idempotency"
    " WHERE key_id = ANY($1) AND body LIKE '%\"rejected\":[{%'"
)

# Erasure: the digits ($2) become the hash ($3) in the accounts ($1).
_QUEUED = Raw(
    "SELECT id, account_id FROM messages WHERE account_id = ANY($1) AND sentto = $2 AND status = $3"
)
_ERASE_MESSAGES = Raw(
    "UPDATE messages SET sentto = $3, text = '', purged_at = coalesce(purged_at, $4)"
    " WHERE account_id = ANY($1) AND sentto = $2 RETURNING account_id"
)
_ERASE_OTPS = Raw(
    "UPDATE otps SET sentto = $3, masked_text = '' WHERE account_id = ANY($1) AND sentto = $2"
    " RETURNING account_id"
)
# A group that holds the number again after an earlier erasure has both forms: one contact
# is enough.
_IN_GROUPS = "group_id IN (SELECT id FROM contact_groups WHERE account_id = ANY($1))"
_CONTACT_TWICE = Raw(
    f"DELETE FROM contacts WHERE {_IN_GROUPS} AND number = $2 AND EXISTS"
    " (SELECT 1 FROM contacts AS c WHERE c.group_id = contacts.group_id AND c.number = $3)"
    " RETURNING account_id"
)
_ERASE_CONTACTS = Raw(
    f"UPDATE contacts SET number = $3, first_name = NULL, last_name = NULL WHERE {_IN_GROUPS}"
    " AND number = $2 RETURNING account_id"
)
_ERASE_EVENTS = Raw(
    "UPDATE webhook_events SET body = replace(body, $2, $3)"
    " WHERE key_id = ANY($1) AND body LIKE $4 RETURNING key_id"
)
_REWRITE_KEPT = Raw("UPDATE idempotency SET body = $3 WHERE key_id = $1 AND fingerprint = $2")
# A file waiting for its campaign to start may list the number; nothing in it can be replaced.
_FORGET_UPLOADS = Raw(
    "DELETE FROM campaign_uploads WHERE account_id = ANY($1) RETURNING account_id"
)

# Retention: a walk up the ids (the primary key), a slice at a time.
_WALK = Raw(
    "SELECT id, status, created_at, purged_at FROM messages WHERE id > $1 ORDER BY id LIMIT $2"
)
_PURGE = Raw(
    "UPDATE messages SET text = '', purged_at = $2"
    " WHERE id = ANY($1) AND purged_at IS NULL AND status = ANY($3) RETURNING id"
)
_PURGE_OTPS = Raw("UPDATE otps SET masked_text = '' WHERE message_id = ANY($1)")

# Export.

# What the accounts keep about a number: per account, per table, records ready for JSON.
Kept = dict[int, dict[str, list[Record]]]


async def kept(conn: AsyncConnection, account_ids: Sequence[int], digits: str, erased: str) -> Kept:
    """Everything the accounts keep under the number or its erased form (only the accounts
    that keep something, and the tables that hold something)."""
    scope, forms = list(account_ids), [digits, erased]
    found: Kept = {}

    def add(account_id: int, table: str, record: Record) -> None:
        found.setdefault(account_id, {}).setdefault(table, []).append(record)

    for read in _READS:
        for row in await read.statement.rows(conn, scope, forms):
            add(row["account_id"], read.table, read.record(row))
    keys = await _keys(conn, scope)
    if not keys:
        return found
    patterns = [_in_event(form, "%") for form in forms]
    for row in await _EVENTS.statement.rows(conn, list(keys), *patterns):
        event = _EVENTS.record(row)
        event["body"] = orjson.loads(event["body"])
        add(keys[row["key_id"]], _EVENTS.table, event)
    for row in await _KEPT.rows(conn, list(keys)):
        body = orjson.loads(row["body"])
        rejected = [r for r in _rejected(body) if _names(r, digits) or r["sentto"] == erased]
        if rejected:
            answer = {"expires_at": from_ms(row["expires_ms"]), "rejected": rejected}
            add(keys[row["key_id"]], "kept_answers", answer)
    return found


async def _keys(conn: AsyncConnection, scope: list[int]) -> dict[int, int]:
    """The accounts' keys: key id → account id."""
    return {row["id"]: row["account_id"] for row in await _KEYS.rows(conn, scope)}


def _in_event(form: str, around: str = "") -> str:
    return f'{around}"sentto":"{form}"{around}'


def _rejected(body: Any) -> list[dict[str, Any]]:
    rejected = body.get("fields", {}).get("rejected") if isinstance(body, dict) else None
    return [r for r in rejected or [] if isinstance(r, dict) and isinstance(r.get("sentto"), str)]


def _names(rejection: dict[str, Any], digits: str) -> bool:
    """Whether a left-out recipient, as the caller wrote it, is the number."""
    found = lookup(rejection["sentto"], receiving=False)
    return not isinstance(found, str) and found.digits == digits


# Erasure.


async def queued_to(conn: AsyncConnection, account_ids: Sequence[int], digits: str) -> list[Row]:
    """The accounts' messages to the number still in the queue: (id, account_id)."""
    return await _QUEUED.rows(conn, list(account_ids), digits, MessageStatus.QUEUED.value)


async def erase(
    conn: AsyncConnection, account_ids: Sequence[int], digits: str, erased: str, now: datetime
) -> dict[str, Counter[int]]:
    """The number replaced by ``erased`` in every table but the ledger, the consents and the
    blacklist (the campaign files: see ``forget_uploads``), its message texts emptied and the
    names beside it in contact groups dropped. Per table, how many rows of each account changed."""
    scope = list(account_ids)
    changed: dict[str, Counter[int]] = {}

    def count(table: str, rows: Sequence[Row], column: str = "account_id") -> None:
        changed[table] = changed.get(table, Counter()) + Counter(row[column] for row in rows)

    count("messages", await _ERASE_MESSAGES.rows(conn, scope, digits, erased, now))
    count("otps", await _ERASE_OTPS.rows(conn, scope, digits, erased))
    count("contacts", await _CONTACT_TWICE.rows(conn, scope, digits, erased))
    count("contacts", await _ERASE_CONTACTS.rows(conn, scope, digits, erased))
    keys = await _keys(conn, scope)
    events = await _ERASE_EVENTS.rows(
        conn, list(keys), _in_event(digits), _in_event(erased), _in_event(digits, "%")
    )
    changed["webhook_events"] = Counter(keys[row["key_id"]] for row in events)
    changed["kept_answers"] = await _erase_kept(conn, keys, digits, erased)
    return changed


async def forget_uploads(conn: AsyncConnection, account_ids: Sequence[int]) -> Counter[int]:
    """Deletes the accounts' campaign files waiting to start; per account, how many."""
    rows = await _FORGET_UPLOADS.rows(conn, list(account_ids))
    return Counter(row["account_id"] for row in rows)


async def _erase_kept(
    conn: AsyncConnection, keys: dict[int, int], digits: str, erased: str
) -> Counter[int]:
    rewritten: Counter[int] = Counter()
    if not keys:
        return rewritten
    for row in await _KEPT.rows(conn, list(keys)):
        body = orjson.loads(row["body"])
        naming = [r for r in _rejected(body) if _names(r, digits)]
        for rejection in naming:
            rejection["sentto"] = erased
        if naming:
            await _REWRITE_KEPT.run(
                conn, row["key_id"], row["fingerprint"], orjson.dumps(body).decode()
            )
            rewritten[keys[row["key_id"]]] += 1
    return rewritten


# Retention.


@dataclass(frozen=True, slots=True)
class Walked:
    """A slice of the walk: the messages in it whose texts are due to go, and the id the walk
    goes on after (None: it reached messages younger than the retention, or the last one)."""

    due: list[int]
    after: int | None


async def walk(conn: AsyncConnection, after: int, created_before: datetime, limit: int) -> Walked:
    """The next ``limit`` messages by id after ``after``: those final, created before
    ``created_before`` and not purged yet are due."""
    rows = await _WALK.rows(conn, after, limit)
    due: list[int] = []
    for row in rows:
        if moment(row["created_at"]) >= created_before:
            return Walked(due, None)
        if row["purged_at"] is None and row["status"] in _FINAL:
            due.append(row["id"])
    return Walked(due, rows[-1]["id"] if len(rows) == limit else None)


async def purge(conn: AsyncConnection, message_ids: Sequence[int], now: datetime) -> int:
    """Empties the texts of those messages (and their OTPs' masked texts) that are final and
    not purged yet, marking them purged; how many."""
    purged = [row["id"] for row in await _PURGE.rows(conn, list(message_ids), now, _FINAL)]
    if purged:
        await _PURGE_OTPS.run(conn, purged)
    return len(purged)
