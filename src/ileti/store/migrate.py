"""Apply Alembic migrations programmatically (``ileti serve`` does this at every start)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

# Alembic narrates every step at INFO; a start of the gateway should not.
logging.getLogger("alembic").setLevel(logging.WARNING)


def alembic_config(url: str, schema: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if schema:
        cfg.set_main_option("ileti.schema", schema)
    return cfg


def upgrade(url: str, schema: str | None = None, revision: str = "head") -> None:
    """Bring the database to ``revision``. Synchronous: call it outside a running loop."""
    command.upgrade(alembic_config(url, schema), revision)


def downgrade(url: str, schema: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url, schema), revision)
