"""Accounts, API keys, sender IDs and the credit ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("international_kurus", sa.BigInteger(), nullable=False),
        sa.Column("international_enabled", sa.Boolean(), nullable=False),
        sa.Column("otp_title", sa.String(length=11), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("name", name=op.f("uq_accounts_name")),
        sa.CheckConstraint("credits >= 0", name=op.f("ck_accounts_credits_not_negative")),
        sa.CheckConstraint(
            "international_kurus >= 0", name=op.f("ck_accounts_international_not_negative")
        ),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("api_enabled", sa.Boolean(), nullable=False),
        sa.Column("send_single_sms", sa.Boolean(), nullable=False),
        sa.Column("send_otp", sa.Boolean(), nullable=False),
        sa.Column("send_bulk_sms", sa.Boolean(), nullable=False),
        sa.Column("check_balance", sa.Boolean(), nullable=False),
        sa.Column("check_sms_status", sa.Boolean(), nullable=False),
        sa.Column("allowed_ips", sa.JSON(), nullable=False),
        sa.Column("per_minute", sa.Integer(), nullable=True),
        sa.Column("webhook", sa.JSON(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("revoked_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_api_keys_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_index(op.f("ix_api_keys_account_id"), "api_keys", ["account_id"])
    op.create_table(
        "sender_ids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=11), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_sender_ids_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sender_ids")),
        sa.UniqueConstraint("account_id", "title", name="uq_sender_ids_account_title"),
    )
    op.create_table(
        "credit_ledger",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("balance", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_credit_ledger_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_ledger")),
        sa.UniqueConstraint("reference", "kind", name="uq_credit_ledger_reference_kind"),
    )
    op.create_index("ix_credit_ledger_account_id_id", "credit_ledger", ["account_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_credit_ledger_account_id_id", table_name="credit_ledger")
    op.drop_table("credit_ledger")
    op.drop_table("sender_ids")
    op.drop_index(op.f("ix_api_keys_account_id"), table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("accounts")
