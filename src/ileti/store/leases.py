"""Work claimed under leases: the dispatch queue and the webhook outbox are both such a table.

A row is due when its time has come (``due_ms``) and no lease holds it (``lease_until_ms``).
A claim leases the most urgent due rows to an owner for a while rather than locking them
across the network: a worker that dies leaves its claims to lapse, and another takes them
again. On PostgreSQL the claim skips rows another transaction is claiming (``FOR UPDATE SKIP
LOCKED``), so any number of workers claim side by side; SQLite's writes are serial anyway.
Times are epoch milliseconds: cheap to compare.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.store.sql import Batch, Raw, Row


class LeaseQueue:
    """The statements of one leased table.

    ``waiting`` narrows what is due, with parameters of its own written ``{0}``, ``{1}``
    (a claim's priority bound, the outbox's busy keys); ``order`` says which due rows go
    first. With ``counts_claims``, a claim counts as an attempt (``attempts + 1``), and giving
    a row back unclaimed takes the count back.
    """

    def __init__(
        self,
        table: Table,
        key: str,
        *,
        waiting: str,
        order: str,
        returning: str,
        counts_claims: bool = False,
    ) -> None:
        name = table.name
        key_type = table.c[key].type.compile(dialect=postgresql.dialect())
        due = "due_ms <= $1 AND lease_until_ms < $1 AND " + waiting
        self._any_due = Raw(f"SELECT 1 FROM {name} WHERE {due.format('$2', '$3')} LIMIT 1")
        counted = ", attempts = attempts + 1" if counts_claims else ""
        lease = (
            f"UPDATE {name} SET lease_until_ms = $2, lease_owner = $3{counted}"
            f" WHERE {key} IN (SELECT {key} FROM {name} WHERE {due.format('$5', '$6')}"
            f" ORDER BY {order} LIMIT $4{{lock}}) RETURNING {returning}"
        )
        self._claim = Raw(
            lease.format(lock=" FOR UPDATE SKIP LOCKED"), sqlite=lease.format(lock="")
        )
        uncounted = ", attempts = attempts - 1" if counts_claims else ""
        self._release = Raw(
            f"UPDATE {name} SET lease_until_ms = 0, lease_owner = NULL{uncounted}"
            f" WHERE {key} = ANY($1) AND lease_owner = $2"
        )
        self._extend = Raw(
            f"UPDATE {name} SET lease_until_ms = $3 WHERE {key} = ANY($1) AND lease_owner = $2"
        )
        self._postpone = Batch(
            f"UPDATE {name} AS t SET due_ms = w.due, lease_until_ms = 0, lease_owner = NULL"
            f" FROM unnest($1::{key_type}[], $2::bigint[]) AS w(id, due)"
            f" WHERE t.{key} = w.id AND t.lease_owner = $3",
            sqlite=f"UPDATE {name} SET due_ms = $2, lease_until_ms = 0, lease_owner = NULL"
            f" WHERE {key} = $1 AND lease_owner = $3",
        )

    async def any_due(self, conn: AsyncConnection, now_ms: int, *waiting: Any) -> bool:
        """Whether a claim would find work: a read, so that a loop with nothing to do takes
        no write lock."""
        return bool(await self._any_due.rows(conn, now_ms, *waiting))

    async def claim(
        self,
        conn: AsyncConnection,
        owner: str,
        limit: int,
        now_ms: int,
        lease_ms: int,
        *waiting: Any,
    ) -> list[Row]:
        """Lease up to ``limit`` due rows to ``owner``, most urgent first; the rows leased."""
        return await self._claim.rows(conn, now_ms, now_ms + lease_ms, owner, limit, *waiting)

    async def release(self, conn: AsyncConnection, keys: Collection[Any], owner: str) -> None:
        """Give back rows ``owner`` claimed and never worked on: due again at once."""
        if keys:
            await self._release.run(conn, list(keys), owner)

    async def extend(
        self, conn: AsyncConnection, keys: Collection[Any], owner: str, until_ms: int
    ) -> None:
        """Keep ``owner``'s leases alive while their work goes on."""
        if keys:
            await self._extend.run(conn, list(keys), owner, until_ms)

    async def postpone(self, conn: AsyncConnection, due_ms: Mapping[Any, int], owner: str) -> None:
        """Give back ``owner``'s rows, each due again at its own time (a retry's backoff)."""
        rows: Sequence[tuple[Any, int]] = list(due_ms.items())
        await self._postpone.run_rows(conn, rows, owner)
