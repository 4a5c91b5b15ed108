"""Credit transfers between a reseller and its children, in both directions, for the main
credits and the international balance.

A transfer is one transaction writing two ledger entries with one transfer id, refused whole
(TS-1027) when the giving side cannot cover it. A retried request with the same
``Idempotency-Key`` from the same key is the same transfer: its id is made from the two, so the
second finds the first and moves nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ileti import codes
from ileti.codes import GatewayError
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.pricing import Balance, amount_text
from ileti.store import transfers as store
from ileti.store.db import Database
from ileti.store.ledger import InsufficientBalance
from ileti.store.transfers import FROM_CHILD, TO_CHILD, TransferRecord
from ileti.validation import invalid, is_whole

__all__ = ["FROM_CHILD", "TO_CHILD", "TransferView", "Transfers"]

DIRECTIONS = (TO_CHILD, FROM_CHILD)
# Beyond this an amount would overflow a balance (64-bit) when added to one.
MAX_AMOUNT = 10**15


@dataclass(frozen=True, slots=True)
class TransferView:
    id: str
    parent_id: int
    child_id: int
    balance: Balance
    amount: int  # credits, or kuruş of the international balance
    direction: str
    created_at: datetime
    # The balances after it; None when the view is of a transfer made before (a repeat).
    parent_balance_after: int | None = None
    child_balance_after: int | None = None

    @classmethod
    def of(
        cls, record: TransferRecord, parent_after: int | None = None, child_after: int | None = None
    ) -> TransferView:
        r = record
        return cls(
            r.id, r.parent_id, r.child_id, r.balance, r.amount, r.direction, r.created_at,
            parent_after, child_after,
        )  # fmt: skip


class Transfers:
    def __init__(self, db: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db = db
        self.clock = clock

    async def transfer(
        self,
        parent_id: int,
        child: int,
        balance: Balance,
        amount: object,
        direction: object,
        key_id: int | None,
        idempotency_key: str | None,
    ) -> TransferView:
        """Move ``amount`` of ``balance`` between the reseller ``parent_id`` and its ``child``."""
        if direction not in DIRECTIONS:
            raise invalid("direction", "must be to_child or from_child")
        assert isinstance(direction, str)
        if not is_whole(amount) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
            raise invalid(
                "credits" if balance is Balance.MAIN else "international",
                f"must be a positive amount, at most {MAX_AMOUNT:,}",
            )
        transfer_id = _transfer_id(key_id, idempotency_key)
        record = TransferRecord(
            transfer_id, parent_id, child, balance, amount, direction, self.clock.now()
        )
        try:
            async with self.db.write() as conn:
                await self._check_child(conn, parent_id, child)
                moved = await store.move(conn, record)
                if moved is None:
                    earlier = await store.find(conn, transfer_id)
                    assert earlier is not None
                    return _repeat(earlier, record)
        except InsufficientBalance as short:
            whose = "your" if short.account_id == parent_id else "the customer's"
            which = "main balance" if short.balance is Balance.MAIN else "international balance"
            needed = amount_text(short.balance, short.needed)
            held = amount_text(short.balance, short.available)
            raise GatewayError(
                codes.INSUFFICIENT_BALANCE,
                f"Insufficient balance: the transfer needs {needed}; {whose} {which} has {held}.",
            ) from None
        except IntegrityError:
            # The same transfer committed by a concurrent retry first: answer with it.
            async with self.db.read() as conn:
                earlier = await store.find(conn, transfer_id)
            if earlier is None:
                raise
            return _repeat(earlier, record)
        return TransferView.of(moved.record, moved.parent_balance_after, moved.child_balance_after)

    async def history(
        self, parent_id: int, child_id: int | None, limit: int, before: datetime | None = None
    ) -> list[TransferView]:
        """A reseller's transfers, newest first (with one child when ``child_id`` is given)."""
        async with self.db.read() as conn:
            if child_id is not None:
                await self._check_child(conn, parent_id, child_id, own_balance=False)
            found = await store.page(conn, parent_id, child_id, before, limit)
        return [TransferView.of(record) for record in found]

    async def _check_child(
        self, conn: AsyncConnection, parent_id: int, child_id: int, *, own_balance: bool = True
    ) -> None:
        """Refuse a child that is not the reseller's (TS-1039, as for one that does not exist)
        and, for a transfer, one without a balance of its own."""
        child = await store.account_tie(conn, child_id)
        if child is None or child.parent_id != parent_id:
            raise GatewayError(codes.NOT_FOUND, "No such customer account.")
        if own_balance and child.shared_balance:
            raise invalid(
                "account", "shares your balance: it has none of its own to transfer to or from"
            )


def _transfer_id(key_id: int | None, idempotency_key: str | None) -> str:
    if idempotency_key is None or key_id is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{key_id}\0{idempotency_key}".encode()).hexdigest()[:32]


def _repeat(earlier: TransferRecord, asked: TransferRecord) -> TransferView:
    """The answer to a retried transfer: the first one, if the retry asked for the same."""
    same = (earlier.parent_id, earlier.child_id, earlier.balance, earlier.amount) == (
        asked.parent_id,
        asked.child_id,
        asked.balance,
        asked.amount,
    ) and earlier.direction == asked.direction
    if not same:
        raise invalid("Idempotency-Key", "was used before with a different request")
    return TransferView.of(earlier)
