"""On SQLite, the ids of messages, groups and queue entries are the tables' rowids.

Declared BIGINT, a primary key is an index of its own beside the rowid: one more B-tree to
write on every insert and to walk on every lookup by id. Declared INTEGER, it is the rowid
itself (still 64-bit). PostgreSQL is left as it is.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = (("messages", "id"), ("groups", "id"), ("dispatch_queue", "message_id"))


def _retype(to: sa.types.TypeEngine, was: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, column in _KEYS:
        # SQLite changes a column's type only by rebuilding the table, with its indexes.
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.alter_column(column, type_=to, existing_type=was, existing_nullable=False)


def upgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())
