"""Messages no longer carry a foreign key to their account. Checking it cost the database a
lookup and a row lock per message: about a second of PostgreSQL's time for a group of 100,000.
Accounts are never deleted, and a message's account comes from the key that authenticated its
request, read in the transaction that stores it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "fk_messages_account_id_accounts"


def upgrade() -> None:
    # SQLite cannot drop a constraint in place: the table is rebuilt, with its indexes.
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(_NAME, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.create_foreign_key(_NAME, "accounts", ["account_id"], ["id"])
