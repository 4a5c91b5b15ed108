"""Prices per segment for destinations outside Turkey: the operator's own over the shipped
table."""

from __future__ import annotations

from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.store import prices as store
from ileti.store.db import Database


class Prices:
    def __init__(self, db: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db = db
        self.clock = clock

    async def table(self) -> dict[str, int]:
        """Kuruş per segment by region ("*": every other country)."""
        async with self.db.read() as conn:
            return await store.country_prices(conn)

    async def set(self, region: str, kurus: int) -> None:
        async with self.db.write() as conn:
            await store.set_price(conn, region, kurus, self.clock.now())

    async def reset(self, region: str) -> bool:
        """Back to the shipped price; False if the operator had not set one."""
        async with self.db.write() as conn:
            return await store.reset_price(conn, region)
