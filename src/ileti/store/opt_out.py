"""Opt-outs by SMS: ``RET`` or ``IPTAL`` sent to a title stops that account's advertising to
the sender. Informational traffic (orders, OTP) is not affected, as the market rules allow.
Where the account keeps İYS consents, the sender's SMS consent becomes a RET, which the worker
pushes to İYS at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.numbers import InvalidNumber, normalise
from ileti.store import consents
from ileti.store.sql import Raw

_OWNERS = Raw("SELECT account_id FROM sender_ids WHERE upper(title) = $1")
_LISTED = Raw("SELECT account_id, source FROM blacklist WHERE number = $1 AND account_id = ANY($2)")
# Already listed by the account itself: the entry now also records the recipient's own
# opt-out, so that taking it off the account's list keeps the opt-out.
_THEIRS_TOO = Raw("UPDATE blacklist SET source = 'sms' WHERE number = $1 AND account_id = ANY($2)")
_OPT_OUT = Raw(
    "INSERT INTO blacklist (account_id, number, scope, source, created_at)"
    " VALUES ($1, $2, 'advertising', 'sms', $3)"
)


async def record_opt_out(
    conn: AsyncConnection, source: str, destination: str, now: datetime
) -> int:
    """Blacklist ``source`` for advertising of every account owning the title ``destination``.

    Returns how many accounts it was newly added to (0 when the title is nobody's or the number
    was already blacklisted there).
    """
    try:
        number = normalise(source).digits
    except InvalidNumber:
        return 0
    owners = [row["account_id"] for row in await _OWNERS.rows(conn, destination.strip().upper())]
    if not owners:
        return 0
    listed = {row["account_id"]: row["source"] for row in await _LISTED.rows(conn, number, owners)}
    theirs = [account_id for account_id, source in listed.items() if source != "sms"]
    if theirs:
        await _THEIRS_TOO.run(conn, number, theirs)
    fresh = [account_id for account_id in owners if account_id not in listed]
    for account_id in fresh:
        await _OPT_OUT.run(conn, account_id, number, now)
    await consents.withdraw(conn, owners, number, now)
    return len(fresh)
