"""The panel's lists of messages stop after a page: by state and by number, newest first, and a
group's members by id (in place of by group and state: a group's counts read its rows anyway).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_IN_A_GROUP = sa.text("group_id IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_messages_account_id_status_id", "messages", ["account_id", "status", "id"])
    op.create_index("ix_messages_account_id_sentto_id", "messages", ["account_id", "sentto", "id"])
    op.drop_index("ix_messages_group_id_status", table_name="messages")
    op.create_index(
        "ix_messages_group_id_id",
        "messages",
        ["group_id", "id"],
        sqlite_where=_IN_A_GROUP,
        postgresql_where=_IN_A_GROUP,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_group_id_id", table_name="messages")
    op.create_index(
        "ix_messages_group_id_status",
        "messages",
        ["group_id", "status"],
        sqlite_where=_IN_A_GROUP,
        postgresql_where=_IN_A_GROUP,
    )
    op.drop_index("ix_messages_account_id_sentto_id", table_name="messages")
    op.drop_index("ix_messages_account_id_status_id", table_name="messages")
