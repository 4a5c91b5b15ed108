"""Opt-outs by SMS: ``RET`` or ``IPTAL`` sent to a title stops that account's advertising to
the sender. Informational traffic (orders, OTP) is not affected, as the market rules allow."""

from __future__ import annotations

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.numbers import InvalidNumber, normalise
from ileti.store.models import BlacklistEntry, SenderId, utcnow

blacklist = BlacklistEntry.__table__
sender_ids = SenderId.__table__


async def record_opt_out(conn: AsyncConnection, source: str, destination: str) -> int:
    """Blacklist ``source`` for advertising of every account owning the title ``destination``.

    Returns how many accounts it was newly added to (0 when the title is nobody's or the number
    was already blacklisted there).
    """
    try:
        number = normalise(source).digits
    except InvalidNumber:
        return 0
    owners = [
        row[0]
        for row in await conn.execute(
            select(sender_ids.c.account_id).where(
                func.upper(sender_ids.c.title) == destination.strip().upper()
            )
        )
    ]
    if not owners:
        return 0
    listed = dict(
        (
            await conn.execute(
                select(blacklist.c.account_id, blacklist.c.source).where(
                    blacklist.c.number == number, blacklist.c.account_id.in_(owners)
                )
            )
        ).all()
    )
    # Already listed by the account itself: the entry now also records the recipient's own
    # opt-out, so that taking it off the account's list keeps the opt-out.
    theirs = [account_id for account_id, source in listed.items() if source != "sms"]
    if theirs:
        await conn.execute(
            update(blacklist)
            .where(blacklist.c.number == number, blacklist.c.account_id.in_(theirs))
            .values(source="sms")
        )
    fresh = [account_id for account_id in owners if account_id not in listed]
    if fresh:
        await conn.execute(
            insert(blacklist),
            [
                {
                    "account_id": account_id,
                    "number": number,
                    "scope": "advertising",
                    "source": "sms",
                    "created_at": utcnow(),
                }
                for account_id in fresh
            ],
        )
    return len(fresh)
