"""Reading an account's audit log (changes to its keys, webhooks and users)."""

from __future__ import annotations

from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.store import audit as store
from ileti.store.audit import AuditRecord
from ileti.store.db import Database

__all__ = ["Audit", "AuditRecord"]


class Audit:
    def __init__(self, db: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db = db
        self.clock = clock

    async def page(
        self, account_id: int, *, limit: int = 50, before: int | None = None
    ) -> tuple[list[AuditRecord], int | None]:
        """Entries newest first, and where the next page starts (None on the last)."""
        async with self.db.read() as conn:
            return await store.page(conn, account_id, limit=limit, before=before)
