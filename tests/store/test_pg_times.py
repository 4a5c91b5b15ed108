"""A message's times come back as they were given, to the microsecond, on both databases.
PostgreSQL's driver takes them as microseconds (``store/pg_times``), by COPY for many rows and
as arrays for a few; SQLite keeps them as text, read back by ``sql.moment``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ileti.store import accounts
from ileti.store.db import Database
from ileti.store.messages import store_many
from ileti.store.sql import COPY_FROM, POSTGRES_ONLY, Raw, moment
from support.messages import FIRST_NUMBER, new_message, submission

_TIMES = Raw("SELECT id, created_at, due_at, expires_at FROM messages ORDER BY id")
_INFINITIES = Raw(
    "SELECT 'infinity'::timestamptz AS latest, '-infinity'::timestamptz AS earliest",
    sqlite=POSTGRES_ONLY,
)
ISTANBUL = ZoneInfo("Europe/Istanbul")


async def _times_of(db: Database, count: int) -> list[tuple[datetime, datetime, datetime]]:
    """``count`` requests of one message each, every one with times of its own (new objects,
    some given in Istanbul's zone), stored in one go; the times read back, in order."""
    start = datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=UTC)
    async with db.write() as conn:
        account = await accounts.create_account(conn, "acme", start, credits=count)
        await accounts.add_title(conn, account.id, "ACME", start, active=True)
        requests = []
        for i in range(count):
            at = start + timedelta(seconds=i, microseconds=i)
            if i % 2:
                at = at.astimezone(ISTANBUL)
            requests.append(
                submission(
                    account.id,
                    [new_message(str(FIRST_NUMBER + i))],
                    at,
                    due_at=at + timedelta(minutes=i, microseconds=1),
                    validity=timedelta(hours=1 + i),
                )
            )
        await store_many(conn, requests, start)
    async with db.read() as conn:
        rows = await _TIMES.rows(conn)
    given = [(r.created_at, r.due_at, r.expires_at) for r in requests]
    read = [
        (moment(row["created_at"]), moment(row["due_at"]), moment(row["expires_at"]))
        for row in rows
    ]
    assert read == given
    return read


@pytest.mark.parametrize("count", [3, COPY_FROM + 20], ids=["as arrays", "by copy"])
async def test_times_come_back_to_the_microsecond_in_utc(db: Database, count: int) -> None:
    read = await _times_of(db, count)
    assert len(read) == count
    assert {moment.utcoffset() for row in read for moment in row} == {timedelta(0)}
    assert read[1][0] == datetime(2026, 12, 7, 9, 30, 16, 123457, tzinfo=UTC)


async def test_infinite_times_read_as_the_ends_of_time(db: Database) -> None:
    if not db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite has no infinite time")
    async with db.read() as conn:
        [row] = await _INFINITIES.rows(conn)
    assert row["latest"] == datetime.max.replace(tzinfo=UTC)
    assert row["earliest"] == datetime.min.replace(tzinfo=UTC)
