"""PostgreSQL upkeep of the gateway's own tables: fresh planner statistics, dead rows cleared.

The hot tables change fast: the queue and the kept answers turn over every few seconds, and the
messages table grows from nothing to hundreds of thousands of rows in minutes. Until a table is
analysed, the planner guesses its contents, and its guesses sent statements naming a few dozen
messages by id through every message of a state instead (``/sms/send`` on ``ileti api`` +
``ileti worker``: 2,500 against 3,000 requests/s); dead rows left behind make each claim read
pages of rows that are gone. Autovacuum does this work when the server runs it, but checks each
database once a minute and some servers run without it, so the worker checks for itself, on
autovacuum's own rule: a table is analysed, or vacuumed, once enough of it changed since the
last time.

It also folds the changes of the message counts that PostgreSQL's triggers append (migration
0010) into one row per account, hour and state, so that a report adds up a few rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.store.db import Database
from ileti.store.models import Base
from ileti.store.sql import POSTGRES_ONLY, Raw

# A table is analysed when this many rows changed since its last ANALYZE, plus a share of its
# rows; vacuumed when this many dead rows wait, plus a share. Autovacuum's rule, nearer the
# start: a table that grew from empty is analysed after its first few hundred rows.
ANALYZE_BASE, ANALYZE_SHARE = 500, 0.1
VACUUM_BASE, VACUUM_SHARE = 1000, 0.2

_STATS = Raw(
    "SELECT relname, n_live_tup, n_dead_tup, n_mod_since_analyze FROM pg_stat_user_tables"
    " WHERE schemaname = current_schema()",
    sqlite=POSTGRES_ONLY,
)
# One worker at a time per schema: two VACUUMs of one table would only queue on each other.
_TRY_LOCK = Raw(
    "SELECT pg_try_advisory_lock(hashtext('ileti upkeep ' || current_schema())) AS locked",
    sqlite=POSTGRES_ONLY,
)
_UNLOCK = Raw(
    "SELECT pg_advisory_unlock(hashtext('ileti upkeep ' || current_schema()))",
    sqlite=POSTGRES_ONLY,
)
# ANALYZE samples 300 rows per unit of target; the server's default (100) took 100-170 ms of CPU
# on a table of 100,000 kept answers, 10 takes 13 ms, and a sample of 3,000 rows tells the
# planner enough to choose between a table's few indexes.
_TARGET = Raw("SET default_statistics_target = 10", sqlite=POSTGRES_ONLY)
_RESET = Raw("RESET default_statistics_target", sqlite=POSTGRES_ONLY)
_OWN_TABLES = frozenset(Base.metadata.tables)
# The changes appended up to this statement's snapshot leave and are added to the counts in one
# statement: one that commits meanwhile is left for the next fold, and a read (one snapshot)
# sees every change either still appended or already added, never both nor neither. Only
# this statement updates ``message_counts`` on PostgreSQL, under the upkeep's lock, in the
# order of the key.
_FOLD = Raw(
    "WITH folded AS (DELETE FROM message_count_changes"
    " RETURNING account_id, hour, status, count, credits, kurus)"
    " INSERT INTO message_counts (account_id, hour, status, count, credits, kurus)"
    " SELECT account_id, hour, status, sum(count), sum(credits), sum(kurus) FROM folded"
    " GROUP BY account_id, hour, status ORDER BY account_id, hour, status"
    " ON CONFLICT (account_id, hour, status) DO UPDATE SET"
    " count = message_counts.count + excluded.count,"
    " credits = message_counts.credits + excluded.credits,"
    " kurus = message_counts.kurus + excluded.kurus",
    sqlite=POSTGRES_ONLY,
)
# (vacuum, analyze) → the statement, for each of the gateway's tables.
_WORK = {
    (table, vacuum, analyze): Raw(statement, sqlite=POSTGRES_ONLY)
    for table in sorted(_OWN_TABLES)
    for vacuum, analyze, statement in (
        (False, True, f'ANALYZE "{table}"'),
        (True, False, f'VACUUM "{table}"'),
        (True, True, f'VACUUM (ANALYZE) "{table}"'),
    )
}


@dataclass(frozen=True, slots=True)
class TableWork:
    table: str
    vacuum: bool
    analyze: bool

    @property
    def statement(self) -> Raw:
        return _WORK[(self.table, self.vacuum, self.analyze)]


def due(live: int, dead: int, changed: int) -> tuple[bool, bool]:
    """(vacuum, analyze) for a table with these counts."""
    return (
        dead > VACUUM_BASE + VACUUM_SHARE * live,
        changed > ANALYZE_BASE + ANALYZE_SHARE * live,
    )


async def work_due(conn: AsyncConnection) -> list[TableWork]:
    """The gateway's tables that need a VACUUM or an ANALYZE now."""
    work = []
    for row in await _STATS.rows(conn):
        table = row["relname"]
        if table not in _OWN_TABLES:
            continue
        vacuum, analyze = due(row["n_live_tup"], row["n_dead_tup"], row["n_mod_since_analyze"])
        if vacuum or analyze:
            work.append(TableWork(table, vacuum, analyze))
    return work


async def fold_counts(conn: AsyncConnection) -> int:
    """Add the message counts' changes to the counts; how many rows of counts they touched."""
    return await _FOLD.run(conn)


async def upkeep(db: Database) -> list[TableWork]:
    """Fold the message counts' changes, then vacuum and analyse what is due (PostgreSQL
    only); what was vacuumed or analysed. Another worker doing it at the same time leaves this
    one nothing to do."""
    if not db.is_postgres:
        return []
    async with db.engine.connect() as conn:
        # VACUUM refuses to run inside a transaction.
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        [locked] = await _TRY_LOCK.rows(conn)
        if not locked["locked"]:
            return []
        try:
            await fold_counts(conn)
            await _TARGET.run(conn)
            work = await work_due(conn)
            for item in work:
                await item.statement.run(conn)
            return work
        finally:
            await _RESET.run(conn)
            await _UNLOCK.run(conn)
