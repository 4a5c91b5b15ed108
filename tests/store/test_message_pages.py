"""A page filtered by state or title (no index holds either) looks through a bounded number of
the account's messages: short or empty, it says where the next page goes on, and following the
pages finds every match once. Filters with an index of their own, and full pages, are as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from ileti.domain.lifecycle import MessageStatus
from ileti.store import accounts
from ileti.store import reports as store
from ileti.store.db import Database
from ileti.store.message_span import MAX_ID
from ileti.store.models import Message
from ileti.store.reports import MessageFilter
from ileti.store.sql import Raw
from support.clock import ManualClock
from support.messages import message_row

# Acme's 50 messages have the odd ids 1 … 99, rival's the even ones: each walk passes both.
ACME_IDS = list(range(1, 100, 2))
FAILED = [1, 3]  # acme's oldest
RARE_TITLE = [5, 7]
GROUP_ID = 1_000
WALK = 10
# Messages enough that PostgreSQL plans as it would for a large account.
CROWD = 5_000
NEWEST = 2 * len(ACME_IDS) + CROWD  # the crowd's ids follow acme's and rival's
# Two hours apart: a day's range of ids is narrower than its margin of an hour each side.
STEP = timedelta(hours=2)
START = ManualClock().now()


def _created(message_id: int) -> datetime:
    return START + message_id * STEP


def _row(message_id: int, account_id: int, *, rival: bool = False) -> dict[str, Any]:
    failed = rival or message_id in FAILED
    return message_row(
        message_id,
        account_id,
        status="failed" if failed else "delivered",
        created_at=_created(message_id),
        group_id=None if rival or message_id not in FAILED else GROUP_ID,
        # Rival's messages match every rare criterion: a walk never counts or shows them.
        title="OLD" if rival or message_id in RARE_TITLE else "ACME",
    )


@pytest.fixture
async def acme(db: Database) -> int:
    """Acme's id; its messages and rival's interleaved by id."""
    async with db.write() as conn:
        mine = (await accounts.create_account(conn, "acme", START)).id
        theirs = (await accounts.create_account(conn, "rival", START)).id
        await conn.execute(
            insert(Message.__table__),
            [_row(n, mine) for n in ACME_IDS] + [_row(n + 1, theirs, rival=True) for n in ACME_IDS],
        )
    return mine


async def _pages(
    db: Database, account_id: int, criteria: MessageFilter, *, limit: int = 5, walk: int = WALK
) -> list[tuple[list[int], int | None]]:
    """Every page of a list, following each next position: its ids, and that position."""
    pages: list[tuple[list[int], int | None]] = []
    position = None
    while True:
        async with db.read() as conn:
            rows, position = await store.message_page(
                conn, account_id, criteria, limit=limit, before=position, walk=walk
            )
        pages.append(([row.id for row in rows], position))
        if position is None:
            return pages
        assert len(pages) <= len(ACME_IDS), pages  # each page moves down the ids


def _found(pages: list[tuple[list[int], int | None]]) -> list[int]:
    return [sms_id for ids, _ in pages for sms_id in ids]


async def test_a_rare_state_is_found_a_walk_at_a_time(db: Database, acme: int) -> None:
    pages = await _pages(db, acme, MessageFilter(status=MessageStatus.FAILED))
    assert _found(pages) == [3, 1]
    # Ten of acme's messages a page: four empty pages, each saying where the next goes on.
    assert pages[0] == ([], 80)
    assert [position for _, position in pages] == [80, 60, 40, 20, None]
    # The old walk, with no bound: one page.
    assert await _pages(db, acme, MessageFilter(status=MessageStatus.FAILED), walk=1_000) == [
        ([3, 1], None)
    ]


async def test_a_rare_title_is_found_a_walk_at_a_time(db: Database, acme: int) -> None:
    pages = await _pages(db, acme, MessageFilter(title="OLD"))
    assert _found(pages) == [7, 5]
    assert pages[-1] == ([7, 5], None)
    assert all(ids == [] and position is not None for ids, position in pages[:-1])


async def test_a_walk_ends_where_the_messages_do(db: Database, acme: int) -> None:
    failed = MessageFilter(status=MessageStatus.FAILED)
    # Exactly as many messages as a walk holds: nothing is left to go on to.
    assert await _pages(db, acme, failed, walk=50) == [([3, 1], None)]
    # One more than a walk holds: the next page starts at the one left, and holds it alone.
    assert await _pages(db, acme, failed, walk=49) == [([3], 2), ([1], None)]
    # The last ten of acme's messages are the last page's walk: no empty page follows it.
    assert (await _pages(db, acme, failed, limit=1))[-2:] == [([3], 3), ([1], None)]


async def test_full_pages_are_as_before(db: Database, acme: int) -> None:
    criteria = MessageFilter(status=MessageStatus.DELIVERED)
    delivered = sorted(set(ACME_IDS) - set(FAILED), reverse=True)
    bounded = await _pages(db, acme, criteria)
    assert _found(bounded) == delivered
    unbounded = await _pages(db, acme, criteria, walk=1_000)
    assert _found(unbounded) == delivered
    # Each full page ends at its last row, whatever the walk.
    assert bounded[0] == unbounded[0] == (delivered[:5], delivered[4])


@pytest.mark.parametrize(
    "criteria",
    [
        MessageFilter(status=MessageStatus.FAILED, sentto="905000000001"),
        MessageFilter(title="ACME", sentto="905000000001"),
        MessageFilter(status=MessageStatus.FAILED, group_id=GROUP_ID),
        MessageFilter(title="ACME", group_id=GROUP_ID),
    ],
)
async def test_a_filter_with_its_own_index_walks_to_its_rows(
    db: Database, acme: int, criteria: MessageFilter
) -> None:
    # A walk of one message would find nothing: these never stop at a walk's edge.
    expected = [1] if criteria.sentto else [3, 1]
    assert await _pages(db, acme, criteria, walk=1) == [(expected, None)]


async def test_a_date_range_bounds_the_walk_too(db: Database, acme: int) -> None:
    # Acme's 21 … 79, walked ten messages at a time from 81 (the last one past the range).
    criteria = MessageFilter(status=MessageStatus.DELIVERED, since=_created(21), until=_created(81))
    pages = await _pages(db, acme, criteria, limit=20)
    assert _found(pages) == list(range(79, 20, -2))
    # With a state that none of them is in, the walks stop at the range, not at the account's
    # first message.
    failed = MessageFilter(status=MessageStatus.FAILED, since=_created(21), until=_created(81))
    pages = await _pages(db, acme, failed)
    assert pages == [([], 62), ([], 42), ([], 22), ([], None)]


@pytest.fixture
async def crowded(db: Database, acme: int) -> int:
    """Thousands of messages more, above the others, a quarter of them acme's (as in a
    database of many accounts), settled: the statistics taken, and on PostgreSQL the table's
    pages marked all-visible (as autovacuum leaves all but its newest)."""
    async with db.write() as conn:
        others = (await accounts.create_account(conn, "others", START)).id
        rows = [_row(n, acme if n % 4 == 1 else others) for n in range(101, 101 + CROWD)]
        await conn.execute(insert(Message.__table__), rows)
    async with db.read() as conn:  # autocommit: VACUUM runs in no transaction
        driver = (await conn.get_raw_connection()).driver_connection
        await driver.execute("VACUUM ANALYZE messages" if db.is_postgres else "ANALYZE")
    return acme


async def test_a_bounded_page_reads_above_its_edge_only(db: Database, crowded: int) -> None:
    """The edge is found on the (account, id) index alone; the page then reads no message
    below it, whichever index its database's planner takes."""
    walk = 200
    async with db.read() as conn:
        found = await store._WALK_EDGE.first(conn, crowded, 0, MAX_ID, walk)
        assert found is not None
        edge = found["id"]
        page, values = store._PAGE.bind({"status": "failed", "after": edge})
        driver = (await conn.get_raw_connection()).driver_connection
        if db.is_postgres:
            finding = await _plan(driver, store._WALK_EDGE, crowded, 0, MAX_ID, walk)
            assert finding["Node Type"] == "Index Only Scan", finding
            assert finding["Index Name"] == "ix_messages_account_id_id", finding
            assert _read(finding) == walk + 1, finding
            # At most the messages above the edge, of every account: a few times the walk.
            paging = await _plan(driver, page, crowded, *values, 6)
            assert _read(paging) <= NEWEST - edge < CROWD / 4, paging
        else:
            assert await _steps(driver, store._WALK_EDGE, crowded, 0, MAX_ID, walk) == [
                "SEARCH messages USING COVERING INDEX ix_messages_account_id_id"
                " (account_id=? AND id>? AND id<?)"
            ]
            assert await _steps(driver, page, crowded, *values, 6) == [
                "SEARCH messages USING INDEX ix_messages_account_id_id (account_id=? AND id>?)"
            ]


async def _plan(driver: Any, statement: Raw, *values: Any) -> dict[str, Any]:
    """PostgreSQL's one scan of ``statement`` as it ran."""
    plan = await driver.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + statement.postgres, *values)
    scans = list(_scans(plan[0]["Plan"]))
    assert len(scans) == 1, plan
    return scans[0]


def _scans(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "Scan" in node["Node Type"]:
        yield node
    for child in node.get("Plans", []):
        yield from _scans(child)


def _read(scan: dict[str, Any]) -> int:
    """Rows a scan read: those it passed on and those its filter left out."""
    return (scan["Actual Rows"] + scan.get("Rows Removed by Filter", 0)) * scan["Actual Loops"]


async def _steps(driver: Any, statement: Raw, *values: Any) -> list[str]:
    """SQLite's plan of ``statement``: a line per step."""
    cursor = await driver.execute("EXPLAIN QUERY PLAN " + statement.sqlite, values)
    return [row[3] for row in await cursor.fetchall()]
