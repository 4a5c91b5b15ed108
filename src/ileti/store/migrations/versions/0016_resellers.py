"""Resellers: accounts under a parent (with a balance of their own or the parent's), credit
transfers between them, prices per account, low-balance warnings.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Columns added, not the table rebuilt: SQLite rebuilds only by dropping a table that
    # others refer to.
    for column in (
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("shared_balance", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("daily_cap", sa.BigInteger(), nullable=True),
        sa.Column("low_balance_threshold", sa.BigInteger(), nullable=True),
        sa.Column("low_balance_notified", sa.Boolean(), nullable=False, server_default=sa.false()),
    ):
        op.add_column("accounts", column)
    op.create_index("ix_accounts_parent_id", "accounts", ["parent_id"])
    op.add_column(
        "api_keys",
        sa.Column("manage_subaccounts", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "account_prices",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("kurus", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_account_prices_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("account_id", "region", name="pk_account_prices"),
    )
    op.create_table(
        "daily_spending",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "day", name="pk_daily_spending"),
    )
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("balance", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transfers"),
    )
    op.create_index("ix_transfers_parent_id_created_at", "transfers", ["parent_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_transfers_parent_id_created_at", table_name="transfers")
    op.drop_table("transfers")
    op.drop_table("daily_spending")
    op.drop_table("account_prices")
    op.drop_column("api_keys", "manage_subaccounts")
    op.drop_index("ix_accounts_parent_id", table_name="accounts")
    for column in (
        "low_balance_notified",
        "low_balance_threshold",
        "daily_cap",
        "shared_balance",
        "parent_id",
    ):
        op.drop_column("accounts", column)
