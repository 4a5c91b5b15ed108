"""İYS: an account's access to the registry, and the consent records kept for its brand.

Each record is kept as given (the brand's legal proof); ``latest`` marks the one in force for
(account, brand, recipient type, type, recipient), which is all a send's check reads. Records
added here wait as ``pending`` until the worker has pushed them to İYS.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.consent import Consent
from ileti.store.models import ConsentRecord, table_of
from ileti.store.sql import Composed, Insert, Raw, Row, connector_of, maybe_moment, moment

# The advisory lock that serialises one account's additions on PostgreSQL (SQLite's writes
# are serial already): two records for one recipient must not both become the latest.
CONSENT_LOCK_SPACE = 7003

PENDING = "pending"  # to push to İYS
SYNCED = "synced"  # İYS took it
FAILED = "failed"  # İYS refused it (its code and words in sync_error)
PULLED = "pulled"  # İYS's own: a citizen's change


@dataclass(frozen=True, slots=True)
class IysAccess:
    """An account's İYS settings; ``password`` as stored (sealed)."""

    account_id: int
    url: str
    iys_code: str
    brand_code: str
    username: str
    password: str
    mode: str
    changes_after: str | None
    pulled_at: datetime | None
    pushed_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class StoredConsent:
    id: int
    account_id: int
    brand_code: str
    record: Consent
    origin: str
    latest: bool
    sync_state: str
    sync_error: str | None
    sync_attempts: int
    transaction_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewConsent:
    record: Consent
    origin: str
    sync_state: str
    transaction_id: str | None = None
    # False for a record that a later one of the same addition follows at once.
    latest: bool = True


@dataclass(frozen=True, slots=True)
class PushOutcome:
    """What İYS answered for a pushed record: ``state`` synced or failed, or pending again
    (İYS unreachable) with the time of the next try."""

    id: int
    state: str
    transaction_id: str | None = None
    error: str | None = None
    next_ms: int = 0


_ACCESS_COLUMNS = (
    "account_id, url, iys_code, brand_code, username, password, mode, changes_after,"
    " pulled_at, pushed_at, last_error"
)
_ACCESS = Raw(f"SELECT {_ACCESS_COLUMNS} FROM iys_settings WHERE account_id = $1")
_EVERY_ACCESS = Raw(f"SELECT {_ACCESS_COLUMNS} FROM iys_settings ORDER BY account_id")
_SAVE_ACCESS = Raw(
    "INSERT INTO iys_settings (account_id, url, iys_code, brand_code, username, password, mode)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id) DO UPDATE SET url = $2,"
    " iys_code = $3, brand_code = $4, username = $5, password = $6, mode = $7,"
    # A new registry or brand has its own feed: its cursor starts again.
    " changes_after = CASE WHEN iys_settings.url = $2 AND iys_settings.iys_code = $3"
    " AND iys_settings.brand_code = $4 THEN iys_settings.changes_after END"
)
_ENFORCED = Raw(
    "SELECT account_id, brand_code FROM iys_settings"
    " WHERE mode = 'enforce' AND account_id = ANY($1)"
)
_PULLED = Raw(
    "UPDATE iys_settings SET changes_after = $2, pulled_at = $3, last_error = NULL"
    " WHERE account_id = $1"
)
_PUSHED = Raw("UPDATE iys_settings SET pushed_at = $2 WHERE account_id = $1")
_SYNC_ERROR = Raw("UPDATE iys_settings SET last_error = $2 WHERE account_id = $1")

_COLUMNS = (
    "id, account_id, brand_code, recipient, recipient_type, type, status, source, consent_date,"
    " origin, latest, sync_state, sync_error, sync_attempts, transaction_id, created_at"
)
_CONFIGURED = Raw("SELECT account_id, brand_code FROM iys_settings WHERE account_id = ANY($1)")
_LATEST = Raw(
    f"SELECT {_COLUMNS} FROM consents WHERE account_id = $1 AND brand_code = $2 AND latest"
    " AND recipient = ANY($3)"
)
# A send's numbers without an ONAY in force, read from the index of ONAYs in force alone: a
# group's 100,000 numbers mostly have one, and only the few without come back.
_WITHOUT_CONSENT = (
    " WHERE NOT EXISTS (SELECT 1 FROM consents AS c WHERE c.account_id = $1"
    " AND c.brand_code = $2 AND c.recipient_type = $3 AND c.type = 'MESAJ' AND c.latest"
    " AND c.status = 'ONAY' AND c.recipient = {})"
)
_UNCONSENTED = Raw(
    "SELECT n AS recipient FROM unnest($4::text[]) AS n" + _WITHOUT_CONSENT.format("n"),
    sqlite="SELECT j.value AS recipient FROM json_each($4) AS j"
    + _WITHOUT_CONSENT.format("j.value"),
)
_SUPERSEDE = Raw("UPDATE consents SET latest = false WHERE id = ANY($1)")
_ADD = Insert(
    table_of(ConsentRecord),
    (
        "account_id",
        "brand_code",
        "recipient",
        "recipient_type",
        "type",
        "status",
        "source",
        "consent_date",
        "origin",
        "latest",
        "sync_state",
        "sync_attempts",
        "next_sync_ms",
        "transaction_id",
        "created_at",
    ),
    copy=True,
)
_DUE = Raw(
    f"SELECT {_COLUMNS} FROM consents WHERE sync_state = 'pending' AND next_sync_ms <= $2"
    " AND account_id = $1 ORDER BY next_sync_ms, id LIMIT $3"
)
_WAITING = Raw(
    "SELECT min(next_sync_ms) AS next_ms FROM consents"
    " WHERE sync_state = 'pending' AND account_id = $1"
)
_SYNC = Raw(
    "UPDATE consents SET sync_state = $2, transaction_id = coalesce($3, transaction_id),"
    " sync_error = $4, next_sync_ms = $5, sync_attempts = sync_attempts + 1 WHERE id = $1"
)
_STATES = Raw(
    "SELECT sync_state, count(*) AS count FROM consents WHERE account_id = $1 GROUP BY sync_state"
)
_PAGE = Composed(
    f"SELECT {_COLUMNS} FROM consents WHERE account_id = $1",
    {
        "recipient": "recipient = {}",
        "status": "status = {}",
        "recipient_type": "recipient_type = {}",
        "sync_state": "sync_state = {}",
        "latest": "latest = {}",
        "before": "id < {}",
    },
    "ORDER BY id DESC LIMIT {0}",
    fixed=1,
)


def _access(r: Row) -> IysAccess:
    return IysAccess(
        account_id=r["account_id"],
        url=r["url"],
        iys_code=r["iys_code"],
        brand_code=r["brand_code"],
        username=r["username"],
        password=r["password"],
        mode=r["mode"],
        changes_after=r["changes_after"],
        pulled_at=maybe_moment(r["pulled_at"]),
        pushed_at=maybe_moment(r["pushed_at"]),
        last_error=r["last_error"],
    )


def _stored(r: Row) -> StoredConsent:
    return StoredConsent(
        id=r["id"],
        account_id=r["account_id"],
        brand_code=r["brand_code"],
        record=Consent(
            recipient=r["recipient"],
            recipient_type=r["recipient_type"],
            type=r["type"],
            status=r["status"],
            source=r["source"],
            consent_date=maybe_moment(r["consent_date"]),
        ),
        origin=r["origin"],
        latest=bool(r["latest"]),
        sync_state=r["sync_state"],
        sync_error=r["sync_error"],
        sync_attempts=r["sync_attempts"],
        transaction_id=r["transaction_id"],
        created_at=moment(r["created_at"]),
    )


async def access_of(conn: AsyncConnection, account_id: int) -> IysAccess | None:
    row = await _ACCESS.first(conn, account_id)
    return _access(row) if row is not None else None


async def every_access(conn: AsyncConnection) -> list[IysAccess]:
    """Every account that has İYS settings (what the sync walks)."""
    return [_access(row) for row in await _EVERY_ACCESS.rows(conn)]


async def save_access(
    conn: AsyncConnection,
    account_id: int,
    *,
    url: str,
    iys_code: str,
    brand_code: str,
    username: str,
    password: str,
    mode: str,
) -> None:
    await _SAVE_ACCESS.run(conn, account_id, url, iys_code, brand_code, username, password, mode)


async def enforced(conn: AsyncConnection, account_ids: Iterable[int]) -> dict[int, str]:
    """Account → its brand, for those of ``account_ids`` whose Advertising sends are checked."""
    return {
        row["account_id"]: row["brand_code"]
        for row in await _ENFORCED.rows(conn, list(set(account_ids)))
    }


async def unconsented(
    conn: AsyncConnection, account_id: int, brand: str, recipient_type: str, numbers: list[str]
) -> set[str]:
    """Those of ``numbers`` whose record in force for SMS (MESAJ) is no ONAY, or who have none."""
    rows = await _UNCONSENTED.rows(conn, account_id, brand, recipient_type, numbers)
    return {row["recipient"] for row in rows}


async def latest(
    conn: AsyncConnection, account_id: int, brand: str, recipients: Iterable[str]
) -> dict[tuple[str, str, str], StoredConsent]:
    """The records in force for these recipients, by (recipient, recipient type, type)."""
    found = {}
    for row in await _LATEST.rows(conn, account_id, brand, list(set(recipients))):
        stored = _stored(row)
        found[stored.record.key] = stored
    return found


async def lock_account(conn: AsyncConnection, account_id: int) -> None:
    """Hold the account's additions until the transaction ends (PostgreSQL)."""
    await connector_of(conn).lock(conn, CONSENT_LOCK_SPACE, account_id)


async def append(
    conn: AsyncConnection,
    account_id: int,
    brand: str,
    entries: Sequence[NewConsent],
    superseded: Iterable[int],
    now: datetime,
) -> None:
    """Add ``entries`` (those marked ``latest`` as the records in force), the records
    ``superseded`` no longer in force; under ``lock_account``."""
    await _SUPERSEDE.run(conn, list(superseded))
    await _ADD.run_rows(
        conn,
        [
            (
                account_id,
                brand,
                e.record.recipient,
                e.record.recipient_type,
                e.record.type,
                e.record.status,
                e.record.source,
                e.record.consent_date,
                e.origin,
                e.latest,
                e.sync_state,
                0,
                0,
                e.transaction_id,
                now,
            )
            for e in entries
        ],
    )


async def due_pushes(
    conn: AsyncConnection, account_id: int, now_ms: int, limit: int
) -> list[StoredConsent]:
    """The account's records waiting for İYS whose time has come, oldest first."""
    return [_stored(row) for row in await _DUE.rows(conn, account_id, now_ms, limit)]


async def next_push_ms(conn: AsyncConnection, account_id: int) -> int | None:
    """When the account's next waiting record is due (None: none waits)."""
    row = await _WAITING.first(conn, account_id)
    return None if row is None or row["next_ms"] is None else int(row["next_ms"])


async def record_pushes(conn: AsyncConnection, outcomes: Sequence[PushOutcome]) -> None:
    for o in outcomes:
        await _SYNC.run(conn, o.id, o.state, o.transaction_id, o.error, o.next_ms)


async def record_pull(
    conn: AsyncConnection, account_id: int, cursor: str | None, now: datetime
) -> None:
    await _PULLED.run(conn, account_id, cursor, now)


async def record_push_time(conn: AsyncConnection, account_id: int, now: datetime) -> None:
    await _PUSHED.run(conn, account_id, now)


async def record_error(conn: AsyncConnection, account_id: int, error: str | None) -> None:
    await _SYNC_ERROR.run(conn, account_id, None if error is None else error[:300])


async def sync_states(conn: AsyncConnection, account_id: int) -> dict[str, int]:
    """How many of the account's records are in each sync state."""
    return {row["sync_state"]: row["count"] for row in await _STATES.rows(conn, account_id)}


async def page(
    conn: AsyncConnection,
    account_id: int,
    *,
    recipient: str | None = None,
    status: str | None = None,
    recipient_type: str | None = None,
    sync_state: str | None = None,
    latest_only: bool = False,
    limit: int,
    before: int | None = None,
) -> tuple[list[StoredConsent], int | None]:
    """The account's records, newest first, and where the next page starts (None: the last)."""
    statement, values = _PAGE.bind(
        {
            "recipient": recipient,
            "status": status,
            "recipient_type": recipient_type,
            "sync_state": sync_state,
            "latest": True if latest_only else None,
            "before": before,
        }
    )
    rows = await statement.rows(conn, account_id, *values, limit + 1)
    found = [_stored(row) for row in rows[:limit]]
    return found, found[-1].id if len(rows) > limit else None


async def withdraw(
    conn: AsyncConnection, account_ids: Iterable[int], recipient: str, now: datetime
) -> int:
    """A recipient's RET reply: for each of these accounts with İYS settings, every SMS consent
    of the recipient in force as ONAY gets a RET after it, to push to İYS. How many."""
    withdrawn = 0
    for row in await _CONFIGURED.rows(conn, list(set(account_ids))):
        account_id, brand = row["account_id"], row["brand_code"]
        await lock_account(conn, account_id)
        in_force = await latest(conn, account_id, brand, [recipient])
        given = [
            s for s in in_force.values() if s.record.type == "MESAJ" and s.record.status == "ONAY"
        ]
        if not given:
            continue
        when = now.replace(microsecond=0)
        entries = [
            NewConsent(
                replace(s.record, status="RET", source="HS_MESAJ", consent_date=when),
                "sms",
                PENDING,
            )
            for s in given
            if s.record.consent_date is None or s.record.consent_date < when
        ]
        await append(conn, account_id, brand, entries, [s.id for s in given], now)
        withdrawn += len(entries)
    return withdrawn
