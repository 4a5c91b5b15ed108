"""İYS: each account's access to the consent registry, and the consent records kept for it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_LATEST = sa.text("latest")
_CONSENTED = sa.text("latest AND status = 'ONAY'")
_UNSYNCED = sa.text("sync_state = 'pending'")


def upgrade() -> None:
    op.create_table(
        "iys_settings",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("iys_code", sa.String(length=40), nullable=False),
        sa.Column("brand_code", sa.String(length=40), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("password", sa.String(length=500), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("changes_after", sa.String(length=200), nullable=True),
        sa.Column("pulled_at", _TIME, nullable=True),
        sa.Column("pushed_at", _TIME, nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_iys_settings_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_iys_settings"),
    )
    op.create_table(
        "consents",
        sa.Column("id", _SERIAL, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("brand_code", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=20), nullable=False),
        sa.Column("recipient_type", sa.String(length=8), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=4), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("consent_date", _TIME, nullable=True),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("latest", sa.Boolean(), nullable=False),
        sa.Column("sync_state", sa.String(length=8), nullable=False),
        sa.Column("sync_error", sa.String(length=300), nullable=True),
        sa.Column("sync_attempts", sa.Integer(), nullable=False),
        sa.Column("next_sync_ms", sa.BigInteger(), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
    )
    op.create_index(
        "ix_consents_latest",
        "consents",
        ["account_id", "brand_code", "recipient_type", "type", "recipient"],
        unique=True,
        sqlite_where=_LATEST,
        postgresql_where=_LATEST,
    )
    op.create_index(
        "ix_consents_consented",
        "consents",
        ["account_id", "brand_code", "recipient_type", "type", "recipient"],
        sqlite_where=_CONSENTED,
        postgresql_where=_CONSENTED,
    )
    op.create_index("ix_consents_account_id_id", "consents", ["account_id", "id"])
    op.create_index("ix_consents_account_id_recipient", "consents", ["account_id", "recipient"])
    op.create_index(
        "ix_consents_sync",
        "consents",
        ["next_sync_ms"],
        sqlite_where=_UNSYNCED,
        postgresql_where=_UNSYNCED,
    )


def downgrade() -> None:
    for index in (
        "ix_consents_sync",
        "ix_consents_account_id_recipient",
        "ix_consents_account_id_id",
        "ix_consents_consented",
        "ix_consents_latest",
    ):
        op.drop_index(index, table_name="consents")
    op.drop_table("consents")
    op.drop_table("iys_settings")
