"""Receipt lookups by operator id first: the carrier-first indexes let PostgreSQL plan a walk
over every part of a carrier, which grows with the table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (("message_parts", "ix_message_parts"), ("pending_receipts", "ix_pending_receipts"))


def upgrade() -> None:
    for table, prefix in _INDEXES:
        op.drop_index(f"{prefix}_carrier_operator_id", table_name=table)
        op.create_index(f"{prefix}_operator_id_carrier", table, ["operator_id", "carrier"])


def downgrade() -> None:
    for table, prefix in _INDEXES:
        op.drop_index(f"{prefix}_operator_id_carrier", table_name=table)
        op.create_index(f"{prefix}_carrier_operator_id", table, ["carrier", "operator_id"])
