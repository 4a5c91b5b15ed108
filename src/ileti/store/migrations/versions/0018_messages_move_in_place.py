"""A message's state leaves every index of ``messages``, so that its moves (queued → sent →
final) are updated in place on PostgreSQL (HOT: no new index entries, less write-ahead log), and
its pages keep a fifth of their room free for them (``fillfactor``).

The sweeper finds overdue ``sent`` messages by walking ``(expires_at, id)`` from where its last
walk stopped (``sweep_marks``), in place of the (status, expires_at) index; the panel's lists by
state walk the account's messages by id. The walk starts at the earliest validity among the
messages sent now, at the time of the upgrade when none is, or at the first message.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)
_MARKS = sa.table(
    "sweep_marks",
    sa.column("name", sa.String),
    sa.column("expires_at", _TIME),
    sa.column("message_id", sa.BigInteger),
)


def upgrade() -> None:
    op.create_table(
        "sweep_marks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sweep_marks")),
    )
    # Read through the status index while it is still there.
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "INSERT INTO sweep_marks (name, expires_at, message_id)"
            " SELECT 'overdue', min(expires_at), 0 FROM messages WHERE status = 'sent'"
            " HAVING count(*) > 0"
        )
    )
    # With no message sent, the walk starts now; on an empty table, at the first message.
    if bind.execute(sa.text("SELECT count(*) FROM sweep_marks")).scalar_one() == 0 and (
        bind.execute(sa.text("SELECT 1 FROM messages LIMIT 1")).first() is not None
    ):
        op.bulk_insert(
            _MARKS, [{"name": "overdue", "expires_at": datetime.now(UTC), "message_id": 0}]
        )
    op.drop_index("ix_messages_status_expires_at", table_name="messages")
    op.drop_index("ix_messages_account_id_status_id", table_name="messages")
    op.create_index("ix_messages_expires_at_id", "messages", ["expires_at", "id"])
    op.create_index("ix_message_counts_status_hour", "message_counts", ["status", "hour"])
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE messages SET (fillfactor = 80)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE messages RESET (fillfactor)")
    op.drop_index("ix_message_counts_status_hour", table_name="message_counts")
    op.drop_index("ix_messages_expires_at_id", table_name="messages")
    op.create_index("ix_messages_account_id_status_id", "messages", ["account_id", "status", "id"])
    op.create_index("ix_messages_status_expires_at", "messages", ["status", "expires_at"])
    op.drop_table("sweep_marks")
