"""Messages counted as they move: per account, UTC hour of creation and state, the number of
messages, the credits (segments on the main balance) and the kuruş (cost on any other), kept by
triggers in the transaction of every insert, change and delete of a message, so that a day's
totals read a few rows instead of every message of the day.

SQLite runs one writer at a time: a row trigger adds each change to its row of
``message_counts`` at once. On PostgreSQL many transactions write at once, and adding to the
same row (an hour's ``queued``) from all of them would serialise them, and deadlock an API
transaction adding to ``queued`` with a worker moving ``queued`` to ``sent`` in the other
order. There a statement trigger appends one row per account, hour and state its statement
changed to ``message_count_changes`` (no row is updated, nothing is locked), and the worker's
upkeep folds them into ``message_counts``; a read adds the two.

The counts are made from the messages stored, in the transaction that creates the triggers
(which holds off writers to ``messages`` until it commits). A later migration that rebuilds
``messages`` on SQLite (``batch_alter_table``) drops its triggers and must create them again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What a message adds to its row: the same expressions as the report's scan of the messages.
_CREDITS = "CASE WHEN {0}cost_balance = 'main' THEN {0}segments ELSE 0 END"
_KURUS = "CASE WHEN {0}cost_balance = 'main' THEN 0 ELSE {0}cost END"
_SQLITE_HOUR = "strftime('%Y-%m-%d %H', {0}created_at)"
_POSTGRES_HOUR = "to_char(timezone('UTC', {0}created_at), 'YYYY-MM-DD HH24')"
_COUNTED = "account_id, hour, status, count, credits, kurus"


def _sqlite_add(row: str, sign: str) -> str:
    return (
        f"INSERT INTO message_counts ({_COUNTED}) VALUES ({row}.account_id,"
        f" {_SQLITE_HOUR.format(row + '.')}, {row}.status, {sign}1,"
        f" {sign}({_CREDITS.format(row + '.')}), {sign}({_KURUS.format(row + '.')}))"
        " ON CONFLICT (account_id, hour, status) DO UPDATE SET"
        " count = message_counts.count + excluded.count,"
        " credits = message_counts.credits + excluded.credits,"
        " kurus = message_counts.kurus + excluded.kurus;"
    )


_COUNTED_COLUMNS = ("account_id", "created_at", "status", "segments", "cost", "cost_balance")
_SQLITE_TRIGGERS = {
    "message_counts_insert": f"AFTER INSERT ON messages BEGIN {_sqlite_add('NEW', '')} END",
    "message_counts_update": (
        f"AFTER UPDATE OF {', '.join(_COUNTED_COLUMNS)} ON messages WHEN "
        + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _COUNTED_COLUMNS)
        + f" BEGIN {_sqlite_add('OLD', '-')} {_sqlite_add('NEW', '')} END"
    ),
    "message_counts_delete": f"AFTER DELETE ON messages BEGIN {_sqlite_add('OLD', '-')} END",
}


def _postgres_changes(rows: str) -> str:
    """The messages a statement added (+) or removed (-), one row per account, hour and state.

    Rows are summed by their time first: a batch's messages share one, so the hour is
    formatted once per batch rather than once per message."""
    return (
        f"INSERT INTO message_count_changes ({_COUNTED})"
        f" SELECT account_id, {_POSTGRES_HOUR.format('')} AS hour, status, sum(count),"
        " sum(credits), sum(kurus) FROM (SELECT account_id, created_at, status, sum(sign) AS count,"
        f" sum(sign * ({_CREDITS.format('')})) AS credits,"
        f" sum(sign * ({_KURUS.format('')})) AS kurus FROM ({rows}) AS changed"
        " GROUP BY account_id, created_at, status) AS by_moment"
        " GROUP BY account_id, hour, status"
        " HAVING sum(count) <> 0 OR sum(credits) <> 0 OR sum(kurus) <> 0;"
    )


_ROWS = "SELECT account_id, created_at, status, segments, cost, cost_balance, {1} AS sign FROM {0}"
_ADDED, _REMOVED = _ROWS.format("added", 1), _ROWS.format("removed", -1)
# One function for the four triggers; each branch names only the transition tables its
# trigger has. An update that changes none of the counted columns adds nothing (its old and
# new rows cancel out).
_POSTGRES_FUNCTION = f"""
CREATE FUNCTION message_counts_changed() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_postgres_changes(_ADDED)}
    ELSIF TG_OP = 'UPDATE' THEN
        {_postgres_changes(_ADDED + " UNION ALL " + _REMOVED)}
    ELSIF TG_OP = 'DELETE' THEN
        {_postgres_changes(_REMOVED)}
    ELSE
        DELETE FROM message_count_changes;
        DELETE FROM message_counts;
    END IF;
    RETURN NULL;
END
$$
"""
# Transition tables take one event per trigger, and no column list on UPDATE: the update
# trigger fires for every update of messages and finds what changed from the rows.
_POSTGRES_TRIGGERS = {
    "message_counts_insert": "AFTER INSERT ON messages REFERENCING NEW TABLE AS added",
    "message_counts_update": (
        "AFTER UPDATE ON messages REFERENCING OLD TABLE AS removed NEW TABLE AS added"
    ),
    "message_counts_delete": "AFTER DELETE ON messages REFERENCING OLD TABLE AS removed",
    "message_counts_truncate": "AFTER TRUNCATE ON messages",
}


def _count_existing(hour: str) -> None:
    op.execute(
        f"INSERT INTO message_counts ({_COUNTED})"
        f" SELECT account_id, {hour.format('')} AS hour, status, count(*),"
        f" sum({_CREDITS.format('')}), sum({_KURUS.format('')}) FROM messages"
        " GROUP BY account_id, hour, status"
    )


def _columns() -> list[sa.Column]:
    return [
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.String(length=13), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("kurus", sa.BigInteger(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "message_counts",
        *_columns(),
        sa.PrimaryKeyConstraint("account_id", "hour", "status", name=op.f("pk_message_counts")),
    )
    op.create_table("message_count_changes", *_columns())
    op.create_index(
        "ix_message_count_changes_account_id_hour",
        "message_count_changes",
        ["account_id", "hour"],
    )
    if op.get_bind().dialect.name == "sqlite":
        for name, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        _count_existing(_SQLITE_HOUR)
        return
    op.execute(_POSTGRES_FUNCTION)
    for name, event in _POSTGRES_TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} {event} FOR EACH STATEMENT"
            " EXECUTE FUNCTION message_counts_changed()"
        )
    _count_existing(_POSTGRES_HOUR)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        for name in _POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON messages")
        op.execute("DROP FUNCTION message_counts_changed()")
    op.drop_index("ix_message_count_changes_account_id_hour", table_name="message_count_changes")
    op.drop_table("message_count_changes")
    op.drop_table("message_counts")
