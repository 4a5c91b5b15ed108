"""Opt-outs by SMS: ``RET`` or ``IPTAL`` sent to a title stops that account's advertising to
the sender. Informational traffic (orders, OTP) is not affected, as the market rules allow."""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.numbers import InvalidNumber, normalise
from ileti.store.models import BlacklistEntry, SenderId, utcnow

blacklist = BlacklistEntry.__table__
sender_ids = SenderId.__table__


async def record_opt_out(conn: AsyncConnection, source: str, destination: str) -> int:
    """Blacklist ``source`` for advertising of every account owning the title ``destination``.

    Returns how many accounts it was added to (0 when the title is nobody's or the number was
    already blacklisted).
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
    listed = {
        row[0]
        for row in await conn.execute(
            select(blacklist.c.account_id).where(
                blacklist.c.number == number, blacklist.c.account_id.in_(owners)
            )
        )
    }
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
