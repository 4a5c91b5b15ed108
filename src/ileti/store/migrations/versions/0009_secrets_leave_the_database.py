"""Secrets leave the database: webhook secrets are sealed with the installation's secret key,
and the key of the OTP code hashes (``server_secrets``) is dropped.

The secret key is the one the processes use (``ILETI_SECRET_KEY``, else the key file in the
data directory, made here if this is the first use); it is read only when there is a webhook
secret to seal or open.

OTPs live during the upgrade were hashed with the key that leaves the database. Where that key
was in use (``ILETI_OTP_SECRET`` unset), they are marked spent: ``/otp/verify`` answers TS-1043
for them, as for an expired code, and the user asks for a new one (a code lives 30 minutes at
most). With ``ILETI_OTP_SECRET`` set, their hashes stay valid and nothing changes for them. A
downgrade does the same the other way.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from ileti.config import Settings
from ileti.store.keyring import SEALED, Keyring

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SECRETS = ("secret", "previous_secret")
_KEYS = sa.table("api_keys", sa.column("id", sa.Integer), sa.column("webhook", sa.JSON))
_OTPS = sa.table("otps", sa.column("status", sa.String))


def _settings() -> Settings:
    """The settings of the process that migrates, for the database it migrates."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    return Settings(database_url=url)


def _rewrite_secrets(change: Callable[[Keyring, str], str | None]) -> None:
    """Each webhook's secrets through ``change`` (None: leave it), with the process's key."""
    bind = op.get_bind()
    rows = bind.execute(sa.select(_KEYS.c.id, _KEYS.c.webhook).where(_KEYS.c.webhook.isnot(None)))
    keyring: Keyring | None = None
    for key_id, webhook in rows.all():
        if not isinstance(webhook, dict):
            continue
        changed: dict[str, Any] = dict(webhook)
        for name in _SECRETS:
            value = webhook.get(name)
            if isinstance(value, str) and value:
                keyring = keyring or Keyring.from_settings(_settings())
                new = change(keyring, value)
                if new is not None:
                    changed[name] = new
        if changed != webhook:
            bind.execute(sa.update(_KEYS).where(_KEYS.c.id == key_id).values(webhook=changed))


def _spend_live_otps() -> None:
    if _settings().otp_secret is None:
        op.get_bind().execute(
            sa.update(_OTPS).where(_OTPS.c.status == "live").values(status="spent")
        )


def _sealed(keyring: Keyring, value: str) -> str | None:
    return None if value.startswith(SEALED) else keyring.seal(value)


def _opened(keyring: Keyring, value: str) -> str | None:
    return keyring.open(value) if value.startswith(SEALED) else None


def upgrade() -> None:
    _rewrite_secrets(_sealed)
    kept = op.get_bind().execute(
        sa.text("SELECT count(*) FROM server_secrets WHERE name = 'otp_code_key'")
    )
    if kept.scalar():
        _spend_live_otps()
    op.drop_table("server_secrets")


def downgrade() -> None:
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )
    # Hashed with a key the older code does not know.
    _spend_live_otps()
    _rewrite_secrets(_opened)
