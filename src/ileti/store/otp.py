"""One-time passwords in the database: issuing, counting for the abuse limits, verifying,
and templates. The key of the code hashes is never here (``store.keyring``).

Verification changes a row only with a conditional ``UPDATE`` (live, not expired, attempts
left), so two verifications racing on one code cannot both succeed, on either database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.otp import DEFAULT_TEMPLATES, OtpLang
from ileti.store.models import Otp, table_of
from ileti.store.sql import Insert, Raw, connector_of, reader

HOUR_MS = 3600 * 1000
# The first key of the advisory locks that serialise OTP issuing per account (the second is
# the account id): a number of our own, so no other user of the database takes the same lock.
OTP_LOCK_SPACE = 7001


class OtpStatus(StrEnum):
    LIVE = "live"
    VERIFIED = "verified"
    SPENT = "spent"  # every attempt used


@dataclass(frozen=True, slots=True)
class NewOtp:
    id: str
    account_id: int
    key_id: int
    message_id: int
    sentto: str
    region: str
    code_hash: str
    masked_text: str
    created_ms: int
    expires_ms: int
    attempts: int


_ADD = Insert(
    table_of(Otp),
    (
        "id",
        "account_id",
        "key_id",
        "message_id",
        "sentto",
        "region",
        "code_hash",
        "masked_text",
        "created_ms",
        "expires_ms",
        "attempts_left",
        "status",
    ),
)
# OTPs of the past hour per (account, number) and per (account, region), through the indexes
# that lead with them: every account asked for against every target asked for (a batch holds a
# few accounts), the pairs not asked for dropped after.
_RECENT_TO = {
    column: Raw(
        f"SELECT account_id, {column} AS target, count(*) AS count,"
        " min(created_ms) AS oldest FROM otps"
        f" WHERE account_id = ANY($1) AND {column} = ANY($2) AND created_ms > $3"
        f" GROUP BY account_id, {column}"
    )
    for column in ("sentto", "region")
}
_VIEW = (
    "SELECT id, account_id, key_id, message_id, sentto, code_hash, expires_ms, attempts_left,"
    " status FROM otps"
)
_FIND = Raw(_VIEW + " WHERE id = $1 AND account_id = $2")
_LATEST_LIVE = Raw(
    _VIEW + " WHERE account_id = $1 AND sentto = $2 AND status = 'live' AND expires_ms > $3"
    " AND attempts_left > 0 ORDER BY created_ms DESC LIMIT 1"
)
_LATEST = Raw(_VIEW + " WHERE account_id = $1 AND sentto = $2 ORDER BY created_ms DESC LIMIT 1")
_USABLE = "id = $1 AND status = 'live' AND expires_ms > $2 AND attempts_left > 0"
_VERIFY = Raw(f"UPDATE otps SET status = 'verified', verified_ms = $2 WHERE {_USABLE}")
_USE_ATTEMPT = Raw(
    f"UPDATE otps SET attempts_left = attempts_left - 1 WHERE {_USABLE} RETURNING attempts_left"
)
_SPEND = Raw("UPDATE otps SET status = 'spent' WHERE id = $1")
_REDACT = Raw(
    "UPDATE messages SET text = (SELECT masked_text FROM otps WHERE otps.message_id = messages.id)"
    " WHERE id = ANY($1) AND kind = 'otp'"
)
_TEMPLATE = Raw("SELECT text FROM otp_templates WHERE lang = $1")
_TEMPLATES = Raw("SELECT lang, text FROM otp_templates")
_SET_TEMPLATE = Raw(
    "INSERT INTO otp_templates (lang, text) VALUES ($1, $2)"
    " ON CONFLICT (lang) DO UPDATE SET text = excluded.text"
)
_RESET_TEMPLATE = Raw("DELETE FROM otp_templates WHERE lang = $1")


async def add(conn: AsyncConnection, new: Sequence[NewOtp]) -> None:
    await _ADD.run_rows(
        conn,
        [
            (
                o.id,
                o.account_id,
                o.key_id,
                o.message_id,
                o.sentto,
                o.region,
                o.code_hash,
                o.masked_text,
                o.created_ms,
                o.expires_ms,
                o.attempts,
                OtpStatus.LIVE.value,
            )
            for o in new
        ],
    )


# The abuse limits.


async def lock_accounts(conn: AsyncConnection, account_ids: Collection[int]) -> None:
    """Serialise OTP issuing per account, so that two transactions cannot both count the same
    room under a limit."""
    connector = connector_of(conn)
    for account_id in sorted(account_ids):
        await connector.lock(conn, OTP_LOCK_SPACE, account_id)


@dataclass(frozen=True, slots=True)
class RecentOtps:
    """OTPs issued in the past hour: per (account, number) and per (account, region), with the
    time of the oldest of each (for ``Retry-After``)."""

    per_number: dict[tuple[int, str], tuple[int, int]]
    per_region: dict[tuple[int, str], tuple[int, int]]


async def recent(
    conn: AsyncConnection,
    numbers: Collection[tuple[int, str]],
    regions: Collection[tuple[int, str]],
    now_ms: int,
) -> RecentOtps:
    since = now_ms - HOUR_MS

    async def count(
        column: str, wanted: Collection[tuple[int, str]]
    ) -> dict[tuple[int, str], tuple[int, int]]:
        if not wanted:
            return {}
        rows = await _RECENT_TO[column].rows(
            conn, {account for account, _ in wanted}, {target for _, target in wanted}, since
        )
        found = {(row["account_id"], row["target"]): (row["count"], row["oldest"]) for row in rows}
        return {pair: counted for pair, counted in found.items() if pair in wanted}

    return RecentOtps(await count("sentto", numbers), await count("region", regions))


# Verifying.


@dataclass(frozen=True, slots=True)
class OtpView:
    id: str
    account_id: int
    key_id: int
    message_id: int
    sentto: str
    code_hash: str
    expires_ms: int
    attempts_left: int
    status: str

    def usable(self, now_ms: int) -> bool:
        return (
            self.status == OtpStatus.LIVE.value
            and now_ms < self.expires_ms
            and self.attempts_left > 0
        )


_view = reader(OtpView)


async def find(conn: AsyncConnection, account_id: int, otp_id: str) -> OtpView | None:
    """The account's OTP of that id; another account's is as absent as an unknown one."""
    row = await _FIND.first(conn, otp_id, account_id)
    return _view(row) if row else None


async def latest(
    conn: AsyncConnection, account_id: int, sentto: str, now_ms: int
) -> OtpView | None:
    """The number's latest OTP that can still be verified, else its latest of all."""
    row = await _LATEST_LIVE.first(conn, account_id, sentto, now_ms)
    if row is None:
        row = await _LATEST.first(conn, account_id, sentto)
    return _view(row) if row else None


async def mark_verified(conn: AsyncConnection, otp_id: str, now_ms: int) -> bool:
    """True if this call verified it (it was live, unexpired, with attempts left)."""
    return await _VERIFY.run(conn, otp_id, now_ms) == 1


async def use_attempt(conn: AsyncConnection, otp_id: str, now_ms: int) -> int | None:
    """Spend one attempt on a wrong code; the attempts left, or None if it was not usable."""
    row = await _USE_ATTEMPT.first(conn, otp_id, now_ms)
    if row is None:
        return None
    left: int = row["attempts_left"]
    if left == 0:
        await _SPEND.run(conn, otp_id)
    return left


async def redact(conn: AsyncConnection, message_ids: Sequence[int]) -> None:
    """Put the masked text in place of the sent one: once an OTP's message has left, the
    database keeps its code only as a hash."""
    if message_ids:
        await _REDACT.run(conn, list(message_ids))


# Templates.


async def template(conn: AsyncConnection, lang: OtpLang) -> str:
    row = await _TEMPLATE.first(conn, int(lang))
    return row["text"] if row else DEFAULT_TEMPLATES[lang]


async def all_templates(conn: AsyncConnection) -> dict[OtpLang, tuple[str, bool]]:
    """Each language's template, and whether the operator changed it."""
    changed = {OtpLang(row["lang"]): row["text"] for row in await _TEMPLATES.rows(conn)}
    return {lang: (changed.get(lang, DEFAULT_TEMPLATES[lang]), lang in changed) for lang in OtpLang}


async def set_template(conn: AsyncConnection, lang: OtpLang, text: str) -> None:
    await _SET_TEMPLATE.run(conn, int(lang), text)


async def reset_template(conn: AsyncConnection, lang: OtpLang) -> None:
    await _RESET_TEMPLATE.run(conn, int(lang))
