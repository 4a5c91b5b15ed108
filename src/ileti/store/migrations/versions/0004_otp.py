"""One-time passwords, their templates, and the installation's shared secrets.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column("otp_code_in_response", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.create_table(
        "otps",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("sentto", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("masked_text", sa.String(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("attempts_left", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("verified_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_otps")),
    )
    op.create_index(
        "ix_otps_account_id_sentto_created_ms", "otps", ["account_id", "sentto", "created_ms"]
    )
    op.create_index(
        "ix_otps_account_id_region_created_ms", "otps", ["account_id", "region", "created_ms"]
    )
    op.create_index("ix_otps_message_id", "otps", ["message_id"])
    op.create_table(
        "otp_templates",
        sa.Column("lang", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("lang", name=op.f("pk_otp_templates")),
    )
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )


def downgrade() -> None:
    op.drop_table("server_secrets")
    op.drop_table("otp_templates")
    op.drop_index("ix_otps_message_id", table_name="otps")
    op.drop_index("ix_otps_account_id_region_created_ms", table_name="otps")
    op.drop_index("ix_otps_account_id_sentto_created_ms", table_name="otps")
    op.drop_table("otps")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("otp_code_in_response")
