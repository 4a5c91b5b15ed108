"""Messages, groups, the dispatch queue, parts, receipts waiting for their part, blacklist,
idempotent responses and country prices.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE message_ids")
    op.create_table(
        "id_sequence",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("next_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_id_sequence")),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=11), nullable=False),
        sa.Column("total_recipients", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("number_of_sms", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_groups_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
    )
    op.create_index("ix_groups_account_id_id", "groups", ["account_id", "id"])
    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=11), nullable=False),
        sa.Column("sentto", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=64), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=True),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("sms_lang", sa.String(length=8), nullable=False),
        sa.Column("lang", sa.String(length=4), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("cost_balance", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("due_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("sent_at", _TIME, nullable=True),
        sa.Column("done_at", _TIME, nullable=True),
        sa.Column("carrier", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_messages_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index("ix_messages_account_id_id", "messages", ["account_id", "id"])
    op.create_index("ix_messages_group_id_status", "messages", ["group_id", "status"])
    op.create_index("ix_messages_status_expires_at", "messages", ["status", "expires_at"])
    op.create_table(
        "dispatch_queue",
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("due_ms", sa.BigInteger(), nullable=False),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_dispatch_queue")),
    )
    op.create_index("ix_dispatch_queue_priority_due", "dispatch_queue", ["priority", "due_ms"])
    op.create_table(
        "message_parts",
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("part", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("done_at", _TIME, nullable=True),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("message_id", "part", name=op.f("pk_message_parts")),
    )
    op.create_index(
        "ix_message_parts_carrier_operator_id", "message_parts", ["carrier", "operator_id"]
    )
    op.create_table(
        "pending_receipts",
        sa.Column("id", _SERIAL, nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.String(length=80), nullable=False),
        sa.Column("candidates", sa.String(length=400), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_receipts")),
    )
    op.create_index(
        "ix_pending_receipts_carrier_operator_id", "pending_receipts", ["carrier", "operator_id"]
    )
    op.create_table(
        "blacklist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_blacklist_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blacklist")),
        sa.UniqueConstraint("account_id", "number", name="uq_blacklist_account_number"),
    )
    op.create_table(
        "idempotency",
        sa.Column("key_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "fingerprint", name=op.f("pk_idempotency")),
    )
    op.create_index("ix_idempotency_expires_ms", "idempotency", ["expires_ms"])
    op.create_table(
        "country_prices",
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("kurus_per_segment", sa.Integer(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("region", name=op.f("pk_country_prices")),
    )


def downgrade() -> None:
    op.drop_table("country_prices")
    op.drop_index("ix_idempotency_expires_ms", table_name="idempotency")
    op.drop_table("idempotency")
    op.drop_table("blacklist")
    op.drop_index("ix_pending_receipts_carrier_operator_id", table_name="pending_receipts")
    op.drop_table("pending_receipts")
    op.drop_index("ix_message_parts_carrier_operator_id", table_name="message_parts")
    op.drop_table("message_parts")
    op.drop_index("ix_dispatch_queue_priority_due", table_name="dispatch_queue")
    op.drop_table("dispatch_queue")
    op.drop_index("ix_messages_status_expires_at", table_name="messages")
    op.drop_index("ix_messages_group_id_status", table_name="messages")
    op.drop_index("ix_messages_account_id_id", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_groups_account_id_id", table_name="groups")
    op.drop_table("groups")
    op.drop_table("id_sequence")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE message_ids")
