"""The messages-by-group index holds only messages of a group: single sends, most of the
traffic, no longer pay an index update on insert and on every change of state.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_messages_group_id_status"
_IN_A_GROUP = sa.text("group_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index(_NAME, table_name="messages")
    op.create_index(
        _NAME,
        "messages",
        ["group_id", "status"],
        sqlite_where=_IN_A_GROUP,
        postgresql_where=_IN_A_GROUP,
    )


def downgrade() -> None:
    op.drop_index(_NAME, table_name="messages")
    op.create_index(_NAME, "messages", ["group_id", "status"])
