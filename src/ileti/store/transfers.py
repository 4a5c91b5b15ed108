"""Credits moved between a reseller and its child: one transaction that writes the transfer and
an entry in each side's ledger (``transfer:ID:out`` and ``transfer:ID:in``), refused whole when
the giving side would go below zero. A transfer id given twice is one transfer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ileti.domain.pricing import Balance
from ileti.store import ledger
from ileti.store.ledger import EntryKind
from ileti.store.sql import Raw, Row, moment

TO_CHILD = "to_child"
FROM_CHILD = "from_child"


@dataclass(frozen=True, slots=True)
class TransferRecord:
    id: str
    parent_id: int
    child_id: int
    balance: Balance
    amount: int
    direction: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Moved:
    record: TransferRecord
    parent_balance_after: int
    child_balance_after: int


@dataclass(frozen=True, slots=True)
class Tie:
    """How an account hangs on its parent."""

    parent_id: int | None
    shared_balance: bool


_TIE = Raw("SELECT parent_id, shared_balance FROM accounts WHERE id = $1")
_COLUMNS = "id, parent_id, child_id, balance, amount, direction, created_at"
_FIND = Raw(f"SELECT {_COLUMNS} FROM transfers WHERE id = $1")
_ADD = Raw(
    f"INSERT INTO transfers ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    " ON CONFLICT (id) DO NOTHING RETURNING id"
)
_OF_PARENT = f"SELECT {_COLUMNS} FROM transfers WHERE parent_id = $1 AND ($2 = 0 OR child_id = $2)"
_NEWEST = Raw(_OF_PARENT + " ORDER BY created_at DESC, id DESC LIMIT $3")
_BEFORE = Raw(_OF_PARENT + " AND created_at < $4 ORDER BY created_at DESC, id DESC LIMIT $3")


def _record(row: Row) -> TransferRecord:
    return TransferRecord(
        id=row["id"],
        parent_id=row["parent_id"],
        child_id=row["child_id"],
        balance=Balance(row["balance"]),
        amount=row["amount"],
        direction=row["direction"],
        created_at=moment(row["created_at"]),
    )


async def account_tie(conn: AsyncConnection, account_id: int) -> Tie | None:
    row = await _TIE.first(conn, account_id)
    return None if row is None else Tie(row["parent_id"], bool(row["shared_balance"]))


async def find(conn: AsyncConnection, transfer_id: str) -> TransferRecord | None:
    row = await _FIND.first(conn, transfer_id)
    return _record(row) if row is not None else None


async def move(conn: AsyncConnection, record: TransferRecord) -> Moved | None:
    """Write the transfer and both ledger entries in the caller's transaction; None when a
    transfer of this id exists already (the caller answers with it). ``InsufficientBalance``
    (the caller's transaction then rolls back) when the giving side cannot cover it."""
    r = record
    if not await _ADD.rows(
        conn, r.id, r.parent_id, r.child_id, r.balance.value, r.amount, r.direction, r.created_at
    ):
        return None
    giver, taker = (
        (r.parent_id, r.child_id) if r.direction == TO_CHILD else (r.child_id, r.parent_id)
    )
    await ledger.hold(conn, (giver, taker))
    after: dict[int, int] = {}
    for account_id in (giver, taker):
        amount, side = (-r.amount, "out") if account_id == giver else (r.amount, "in")
        posting = await ledger.post(
            conn,
            account_id,
            r.balance,
            amount,
            EntryKind.TRANSFER,
            f"transfer:{r.id}:{side}",
            r.created_at,
        )
        after[account_id] = posting.balance_after
    return Moved(record, after[r.parent_id], after[r.child_id])


async def page(
    conn: AsyncConnection,
    parent_id: int,
    child_id: int | None,
    before: datetime | None,
    limit: int,
) -> list[TransferRecord]:
    """A reseller's transfers (with one child, or all), newest first (made before ``before``)."""
    if before is None:
        rows = await _NEWEST.rows(conn, parent_id, child_id or 0, limit)
    else:
        rows = await _BEFORE.rows(conn, parent_id, child_id or 0, limit, before)
    return [_record(row) for row in rows]
