"""The ids between which an account's messages created in a span of time lie.

Ids come from one sequence as messages are stored, so they grow with the creation time, up to
the few seconds a transaction takes (a group's time is taken before its ids, and concurrent
transactions on PostgreSQL interleave). Searching the ids by halves on the (account, id) index
finds where the times cross a bound in a few dozen lookups; with a margin far wider than any
such reordering, every message of the span lies strictly between the two ids found. The
list's own condition on the time stays exact: the ids only tell it where to start and stop.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.store.sql import Raw, Row, moment

# Message and group ids are 64-bit signed; a larger one names nothing (and no driver binds it).
MAX_ID = 2**63 - 1
# Wider than the time between a message's creation time and its id being taken.
MARGIN = timedelta(hours=1)

_FIRST_FROM = Raw(
    "SELECT id, created_at FROM messages WHERE account_id = $1 AND id >= $2 AND id <= $3"
    " ORDER BY id LIMIT 1"
)
_LAST = Raw("SELECT id, created_at FROM messages WHERE account_id = $1 ORDER BY id DESC LIMIT 1")


async def id_span(
    conn: AsyncConnection, account_id: int, since: datetime | None, until: datetime | None
) -> tuple[int | None, int | None]:
    """(after, before): every message of the account created in [since, until) has an id
    above ``after`` and below ``before`` (None: no bound on that side)."""
    after = before = None
    if since is not None and since - datetime.min.replace(tzinfo=since.tzinfo) > MARGIN:
        after, _ = await _crossing(conn, account_id, since - MARGIN)
    if until is not None and datetime.max.replace(tzinfo=until.tzinfo) - until > MARGIN:
        _, before = await _crossing(conn, account_id, until + MARGIN)
    return after, before


async def _crossing(
    conn: AsyncConnection, account_id: int, when: datetime
) -> tuple[int | None, int | None]:
    """Two of the account's messages next to each other by id, the first created before
    ``when`` and the second not (None where there is no such message)."""
    low = await _FIRST_FROM.first(conn, account_id, 1, MAX_ID)
    if low is None or not _before(low, when):
        return None, low["id"] if low is not None else None
    high = await _LAST.first(conn, account_id)
    assert high is not None
    if _before(high, when):
        return high["id"], None
    # low was created before `when`, high not; no message is known in (low, top].
    top = high["id"] - 1
    while low["id"] < top:
        middle = (low["id"] + 1 + top) // 2
        found = await _FIRST_FROM.first(conn, account_id, middle, top)
        if found is None:
            top = middle - 1
        elif _before(found, when):
            low = found
        else:
            high, top = found, found["id"] - 1
    return low["id"], high["id"]


def _before(row: Row, when: datetime) -> bool:
    return moment(row["created_at"]) < when
