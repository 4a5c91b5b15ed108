"""The customer panel: users and their sessions, failed logins, contact groups, the audit log,
the panel's own key per account (``api_keys.kind``) and the reason given for a sender ID.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=8), server_default="api", nullable=False)
        )
    with op.batch_alter_table("sender_ids") as batch:
        batch.add_column(sa.Column("reason", sa.String(length=300), nullable=True))
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("totp_secret", sa.String(length=300), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_users_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index("ix_users_account_id", "users", ["account_id"])
    op.create_table(
        "panel_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=8), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("seen_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_panel_sessions")),
    )
    op.create_index("ix_panel_sessions_user_id", "panel_sessions", ["user_id"])
    op.create_index("ix_panel_sessions_seen_ms", "panel_sessions", ["seen_ms"])
    op.create_table(
        "login_failures",
        sa.Column("id", _SERIAL, nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_subject_at_ms", "login_failures", ["subject", "at_ms"])
    op.create_index("ix_login_failures_at_ms", "login_failures", ["at_ms"])
    op.create_table(
        "contact_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_contact_groups_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_groups")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_contact_groups_account_id")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", _SERIAL, nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["contact_groups.id"], name=op.f("fk_contacts_group_id_contact_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("group_id", "number", name=op.f("uq_contacts_group_id")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", _SERIAL, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_account_id_id", "audit_log", ["account_id", "id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("contacts")
    op.drop_table("contact_groups")
    op.drop_table("login_failures")
    op.drop_table("panel_sessions")
    op.drop_table("users")
    with op.batch_alter_table("sender_ids") as batch:
        batch.drop_column("reason")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("kind")
