"""The upkeep loop: the tables' statistics and dead rows, checked on a timer (PostgreSQL)."""

from __future__ import annotations

import asyncio

import structlog

from ileti.store.db import Database
from ileti.store.upkeep import upkeep

log = structlog.get_logger("ileti.dispatch")


class Upkeep:
    def __init__(self, db: Database, interval: float) -> None:
        self.db = db
        self.interval = interval

    async def run(self) -> None:
        while True:
            try:
                done = await upkeep(self.db)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("upkeep_failed")
            else:
                if done:
                    log.debug("tables_kept", done=[work.statement.postgres for work in done])
            await asyncio.sleep(self.interval)
