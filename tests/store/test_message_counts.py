"""Message counts kept by triggers (migration 0010) equal a scan of the messages at every moment:
after sends of every kind, every move of the lifecycle, refunds and expiry, changes made by
hand, deletes, concurrent writers on PostgreSQL and the fold of their changes, and a migration
of a database that already holds messages."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from dispatch.conftest import Pipeline, pipeline_factory
from ileti.carriers import SimulatorConfig
from ileti.domain.lifecycle import DELIVERED, OVERDUE, UNDELIVERED, MessageStatus
from ileti.domain.pricing import Balance
from ileti.domain.schedule import ISTANBUL
from ileti.store import accounts, keys, lifecycle, migrate, otp, reports
from ileti.store.db import Database
from ileti.store.lifecycle import SubmittedPart
from ileti.store.messages import NewMessage
from ileti.store.reports import DayTotal, istanbul_days
from ileti.store.upkeep import fold_counts, upkeep
from support.api import Api, serving
from support.messages import accept, new_message, submission

__all__ = ["pipeline_factory"]  # a fixture, used by name

# The report's scan, per account, UTC hour and state, as each engine groups it.
_SCAN = (
    "SELECT account_id, {hour} AS hour, status, count(*) AS count,"
    " sum(CASE WHEN cost_balance = 'main' THEN segments ELSE 0 END) AS credits,"
    " sum(CASE WHEN cost_balance = 'main' THEN 0 ELSE cost END) AS kurus"
    " FROM messages GROUP BY account_id, hour, status"
)
_HOURS = {
    "sqlite": "strftime('%Y-%m-%d %H', created_at)",
    "postgresql": "to_char(timezone('UTC', created_at), 'YYYY-MM-DD HH24')",
}
_COUNTED = (
    "SELECT account_id, hour, status, sum(count) AS count, sum(credits) AS credits,"
    " sum(kurus) AS kurus FROM (SELECT * FROM message_counts"
    " UNION ALL SELECT * FROM message_count_changes) AS c GROUP BY account_id, hour, status"
)
_MESSAGES = "SELECT account_id, created_at, status, segments, cost, cost_balance FROM messages"

Hours = dict[tuple[int, str, str], tuple[int, int, int]]

# 2024-03-10 00:00 in Istanbul.
MIDNIGHT = datetime(2024, 3, 9, 21, 0, tzinfo=UTC)


async def _hours(conn, statement: str) -> Hours:
    rows = await conn.execute(text(statement))
    return {
        (row.account_id, row.hour, row.status): (int(row.count), int(row.credits), int(row.kurus))
        for row in rows
        if (row.count, row.credits, row.kurus) != (0, 0, 0)
    }


async def _expected_days(conn, account_id: int, first: date, last: date) -> list[DayTotal]:
    """Day totals from every message, as the scan made them: each in the Istanbul day its UTC
    hour began in (the day it was created in, since Istanbul's offset is whole hours)."""
    since, until = istanbul_days(first, last)
    totals: dict[tuple[date, MessageStatus], list[int]] = {}
    for row in await conn.execute(text(_MESSAGES)):
        created = row.created_at
        if isinstance(created, str):
            created = datetime.fromisoformat(created)
        created = created.replace(tzinfo=UTC) if created.tzinfo is None else created
        if row.account_id != account_id or not since <= created < until:
            continue
        total = totals.setdefault(
            (_hour(created).astimezone(ISTANBUL).date(), MessageStatus(row.status)), [0, 0, 0]
        )
        main = row.cost_balance == Balance.MAIN.value
        total[0] += 1
        total[1] += row.segments if main else 0
        total[2] += 0 if main else row.cost
    order = list(MessageStatus)
    return [
        DayTotal(day, status, *total)
        for (day, status), total in sorted(
            totals.items(), key=lambda i: (i[0][0], order.index(i[0][1]))
        )
    ]


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


async def assert_counted(db: Database, *ranges: tuple[int, date, date]) -> None:
    """The counts equal the scan, hour by hour, in one snapshot; and the day totals of each
    (account, first day, last day) equal those made from every message."""
    async with db.engine.connect() as conn:
        if db.is_postgres:
            await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        else:
            # SQLite reads run in autocommit, a snapshot per statement: while the pipeline
            # moves messages, the scan and the counts would be read at different moments.
            await conn.exec_driver_sql("BEGIN")
        try:
            scanned = await _hours(conn, _SCAN.format(hour=_HOURS[conn.dialect.name]))
            counted = await _hours(conn, _COUNTED)
            assert counted == scanned
            for account_id, first, last in ranges:
                since, until = istanbul_days(first, last)
                days = await reports.day_totals(conn, account_id, since, until)
                assert days == await _expected_days(conn, account_id, first, last)
        finally:
            if not db.is_postgres:
                await conn.exec_driver_sql("ROLLBACK")


async def _store(
    db: Database, account_id: int, at: datetime, *messages: NewMessage, grouped: bool = False
) -> list[int]:
    stored = await accept(db, submission(account_id, messages, at, grouped=grouped))
    return stored.message_ids


async def _account(db: Database, name: str) -> int:
    async with db.write() as conn:
        account = await accounts.create_account(
            conn, name, MIDNIGHT, credits=10_000, international_kurus=100_000
        )
    return account.id


MARCH = (date(2024, 3, 8), date(2024, 3, 12))


async def test_counts_follow_every_change_a_message_goes_through(db: Database) -> None:
    acme, globex = await _account(db, "acme"), await _account(db, "globex")
    ranges = [(acme, *MARCH), (globex, *MARCH), (acme, date(2024, 3, 10), date(2024, 3, 10))]
    singles = await _store(db, acme, MIDNIGHT - timedelta(seconds=1), new_message("905321", 2))
    grouped = await _store(
        db,
        acme,
        MIDNIGHT + timedelta(minutes=59, seconds=59),
        *(new_message(f"90532{i}", 1 + i % 3, international=i % 4 == 0) for i in range(40)),
        grouped=True,
    )
    others = await _store(db, globex, MIDNIGHT + timedelta(hours=30), new_message("905329", 3))
    await assert_counted(db, *ranges)

    async with db.write() as conn:
        await lifecycle.mark_sent(
            conn,
            [(m, "smsc", [SubmittedPart(1, f"op{m}")]) for m in [*singles, *grouped[:30]]],
            MIDNIGHT + timedelta(hours=2),
        )
    await assert_counted(db, *ranges)
    now = MIDNIGHT + timedelta(hours=3)
    async with db.write() as conn:
        await lifecycle.finish(conn, grouped[:10], DELIVERED, now, None)
        await lifecycle.finish(conn, grouped[10:20], UNDELIVERED, now, "UNDELIV")
        await lifecycle.finish(conn, grouped[20:30], OVERDUE, now, "no receipt")
        # A move from a state the messages are not in changes nothing.
        await lifecycle.finish(conn, grouped[30:], DELIVERED, now, None)
        # Only the text changes: nothing to count.
        await otp.redact(conn, grouped)
    await assert_counted(db, *ranges)
    if db.is_postgres:
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            assert await fold_counts(conn) > 0
            assert await fold_counts(conn) == 0  # nothing left to fold
        await assert_counted(db, *ranges)

    # Changes no statement of the gateway makes today, made by hand: counted all the same.
    async with db.write() as conn:
        for change in (
            f"UPDATE messages SET segments = segments + 1 WHERE id = {grouped[31]}",
            f"UPDATE messages SET cost = 999 WHERE id = {grouped[32]}",
            f"UPDATE messages SET cost_balance = 'international' WHERE id = {grouped[33]}",
            f"UPDATE messages SET account_id = {globex} WHERE id = {grouped[34]}",
            f"UPDATE messages SET created_at = created_at + interval '1 day' WHERE id = {others[0]}"
            if db.is_postgres
            else f"UPDATE messages SET created_at = datetime(created_at, '+1 day')"
            f" WHERE id = {others[0]}",
            f"UPDATE messages SET status = 'queued', segments = 7 WHERE id = {grouped[0]}",
            f"DELETE FROM messages WHERE id = {grouped[35]}",
            f"UPDATE messages SET attempts = attempts + 1 WHERE id = {grouped[36]}",
        ):
            await conn.execute(text(change))
    await assert_counted(db, *ranges)
    async with db.write() as conn:
        await conn.execute(text("DELETE FROM messages"))
    await assert_counted(db, *ranges)
    async with db.read() as conn:
        assert await reports.day_totals(conn, acme, None, None) == []


async def test_a_range_bound_inside_an_hour_reads_that_part_of_the_hour(db: Database) -> None:
    """Istanbul days began off the hour before 1910 (local mean time, +01:56:56): a summary of
    such days counts the part of the hour it covers, and puts it in the day the hour began in,
    as the scan did."""
    acme = await _account(db, "acme")
    old_day = date(1900, 5, 1)
    since, until = istanbul_days(old_day, old_day)
    assert since is not None and until is not None and since.minute != 0
    for moment in (since - timedelta(minutes=1), since, since + timedelta(minutes=2), until):
        await _store(db, acme, moment, new_message("905321"))
    await _store(db, acme, until - timedelta(seconds=1), new_message("905322", 2))
    await assert_counted(db, (acme, old_day, old_day), (acme, date(1900, 4, 30), old_day))
    async with db.read() as conn:
        days = await reports.day_totals(conn, acme, since, until)
        assert [(d.day, d.count, d.credits) for d in days] == [
            (old_day - timedelta(days=1), 2, 2),
            (old_day, 1, 2),
        ]
        # Both bounds inside one hour.
        inside = await reports.day_totals(
            conn, acme, since + timedelta(minutes=1), since + timedelta(minutes=3)
        )
        assert [(d.count, d.credits) for d in inside] == [(1, 1)]
        assert await reports.day_totals(conn, acme, since, since) == []


async def test_days_across_a_change_of_istanbuls_offset(db: Database) -> None:
    """Summer time ended on 2015-11-08 (+03:00 to +02:00): a range across it is summed hour by
    hour, one on either side of it by the day; both as the scan."""
    acme = await _account(db, "acme")
    change = datetime(2015, 11, 8, 1, 0, tzinfo=UTC)
    for hours in range(-30, 30, 1):
        await _store(db, acme, change + timedelta(hours=hours, minutes=30), new_message("905321"))
    await assert_counted(
        db,
        (acme, date(2015, 11, 6), date(2015, 11, 9)),
        (acme, date(2015, 11, 6), date(2015, 11, 7)),
        (acme, date(2015, 11, 8), date(2015, 11, 9)),
    )
    async with db.read() as conn:
        since, until = istanbul_days(date(2015, 11, 7), date(2015, 11, 8))
        days = await reports.day_totals(conn, acme, since, until)
    # The 8th is 25 hours long.
    assert [(d.day, d.count) for d in days] == [(date(2015, 11, 7), 24), (date(2015, 11, 8), 25)]


async def test_the_ends_of_the_calendar_read_every_message(db: Database) -> None:
    acme = await _account(db, "acme")
    await _store(db, acme, MIDNIGHT, new_message("905321"))
    async with db.read() as conn:
        for first, last in ((date.min, date.max), (date.min, date(1, 1, 2))):
            since, until = istanbul_days(first, last)
            days = await reports.day_totals(conn, acme, since, until)
            assert sum(d.count for d in days) == (1 if last == date.max else 0)


# Through the services: the API's sends, the dispatcher, receipts and the sweeper. ---------------


@contextlib.asynccontextmanager
async def _api_over(pipeline: Pipeline) -> AsyncIterator[Api]:
    db, clock = pipeline.db, pipeline.clock
    async with db.write() as conn:
        await accounts.set_international(conn, pipeline.account_id, True)
        await accounts.topup(conn, pipeline.account_id, Balance.INTERNATIONAL, 100_000, clock.now())
        await accounts.set_otp(conn, pipeline.account_id, title="ACME")
        key, _ = await keys.create_key(conn, pipeline.account_id, clock.now())
    async with serving(db, clock) as (client, services):
        yield Api(client, services, clock, key, pipeline.account_id)


async def _sends(api: Api, start: int) -> None:
    due = (api.clock.now() + timedelta(days=2)).astimezone(ISTANBUL)
    bodies = [
        ("/sms/send", {"title": "ACME", "text": "Merhaba", "sentto": f"9053212{start:05d}"}),
        ("/sms/send", {"title": "ACME", "text": "Hallo", "sentto": f"491512345{start:04d}"}),
        (
            "/sms/send",
            {
                "title": "ACME",
                "text": "Yarın",
                "sentto": f"9053213{start:05d}",
                "scheduled_sms": 1,
                "scheduled_date": due.strftime("%Y-%m-%d"),
                "scheduled_time": due.strftime("%H:%M"),
            },
        ),
        (
            "/group/send",
            {
                "title": "ACME",
                "text": "Kampanya " * 20,
                "sentto": [f"9053214{start + i:05d}" for i in range(25)],
            },
        ),
        ("/otp/send", {"mobile": f"9053215{start:05d}"}),
    ]
    for path, body in bodies:
        answer = (await api.post(path, {"api_key": api.key, **body})).json()
        assert answer["result_code"] == "TS-1024", answer


async def test_counts_follow_sends_dispatch_receipts_refunds_and_expiry(
    db: Database, pipeline_factory
) -> None:
    pipeline: Pipeline = await pipeline_factory(
        credits=100_000,
        smsc=SimulatorConfig(
            port=0,
            receipt_delay=0.05,
            outcomes={"delivered": 0.5, "undelivered": 0.2, "expired": 0.1, "none": 0.2},
            seed=7,
        ),
    )
    today = pipeline.clock.now().astimezone(ISTANBUL).date()
    ranges = [(pipeline.account_id, today - timedelta(days=13), today + timedelta(days=3))]
    async with _api_over(pipeline) as api:
        for start in range(0, 100, 25):
            await _sends(api, start)
        await assert_counted(db, *ranges)
        pipeline.run_all()
        # All but the scheduled ones leave the queue; those with no receipt wait in sent.
        # The counts hold at every moment: no need to wait for the receipts.
        await pipeline.wait_for(lambda s: s.get("queued", 0) == 4)
        await assert_counted(db, *ranges)
        await pipeline.wait_for(lambda s: len(s) == 5)
        await assert_counted(db, *ranges)
        # Validity runs out: those with no receipt expire and are refunded; the scheduled
        # ones fall due and go out.
        pipeline.clock.advance(timedelta(days=3).total_seconds())
        await pipeline.sweeper().sweep()
        await pipeline.wait_for(lambda s: "queued" not in s)
        await assert_counted(db, *ranges)
        if db.is_postgres:
            await upkeep(db)
            async with db.read() as conn:
                assert (
                    await conn.execute(text("SELECT count(*) FROM message_count_changes"))
                ).scalar() == 0
            await assert_counted(db, *ranges)


# PostgreSQL: many writers at once. ---------------------------------------------------------------


async def test_concurrent_sends_dispatch_and_folds_keep_the_counts_exact(
    db: Database, pipeline_factory
) -> None:
    if not db.is_postgres:
        pytest.skip("SQLite has one writer at a time")
    pipeline: Pipeline = await pipeline_factory(credits=1_000_000)
    today = pipeline.clock.now().astimezone(ISTANBUL).date()
    ranges = [(pipeline.account_id, today - timedelta(days=1), today + timedelta(days=3))]
    stop = asyncio.Event()

    async def fold() -> None:
        while not stop.is_set():
            await upkeep(db)
            await assert_counted(db, *ranges)
            await asyncio.sleep(0.01)

    async with _api_over(pipeline) as api:
        pipeline.run_all(dispatchers=2)
        folding = asyncio.ensure_future(fold())

        async def client(n: int) -> None:
            for round_ in range(6):
                await _sends(api, n * 1000 + round_ * 30)

        await asyncio.wait_for(asyncio.gather(*(client(n) for n in range(6))), 120)
        # Every message but the scheduled ones left the queue.
        await pipeline.wait_for(lambda s: sum(s.values()) - s.get("queued", 0) == 6 * 6 * 28)
        stop.set()
        await asyncio.wait_for(folding, 60)
        await assert_counted(db, *ranges)


async def test_a_fold_moves_exactly_what_was_committed_while_inserts_go_on(db: Database) -> None:
    if not db.is_postgres:
        pytest.skip("SQLite keeps no changes to fold")
    accounts_ = [await _account(db, f"acme{n}") for n in range(3)]
    ranges = [(a, *MARCH) for a in accounts_]
    stop = asyncio.Event()

    async def insert(account_id: int) -> int:
        stored = 0
        while not stop.is_set():
            at = MIDNIGHT + timedelta(minutes=17 * stored)
            await _store(
                db, account_id, at, *(new_message(f"9053{i}", 1 + i % 2) for i in range(5))
            )
            stored += 5
        return stored

    writers = [asyncio.ensure_future(insert(a)) for a in accounts_]
    for _ in range(25):
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await fold_counts(conn)
        await assert_counted(db, *ranges)
    stop.set()
    assert all(n > 0 for n in await asyncio.gather(*writers))
    await assert_counted(db, *ranges)


# The migration. ---------------------------------------------------------------------------------


async def test_the_migration_counts_the_messages_already_stored(
    db: Database, database_target
) -> None:
    url, schema = database_target.url, database_target.schema
    acme, globex = await _account(db, "acme"), await _account(db, "globex")
    ids = await _store(
        db,
        acme,
        MIDNIGHT,
        *(new_message(f"9053{i}", 2, international=i % 3 == 0) for i in range(30)),
        grouped=True,
    )
    await _store(db, globex, MIDNIGHT - timedelta(hours=5), new_message("905321"))
    async with db.write() as conn:
        await lifecycle.mark_sent(
            conn, [(m, "smsc", [SubmittedPart(1, "x")]) for m in ids[:20]], MIDNIGHT
        )
        await lifecycle.finish(conn, ids[:5], UNDELIVERED, MIDNIGHT, "UNDELIV")
    # Back to before the counts, with the messages (stored by today's code) kept.
    await db.engine.dispose()
    await asyncio.to_thread(migrate.downgrade, url, schema, "0009")
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: sync.dialect.get_table_names(sync))
    assert "message_counts" not in tables
    await asyncio.to_thread(migrate.upgrade, url, schema)
    await db.engine.dispose()
    await assert_counted(db, (acme, *MARCH), (globex, *MARCH))
    async with db.write() as conn:
        await lifecycle.finish(conn, ids[5:20], DELIVERED, MIDNIGHT, None)
    await assert_counted(db, (acme, *MARCH), (globex, *MARCH))
