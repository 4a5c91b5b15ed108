"""Cancelling: a message, or a group's messages, called off before an operator has them.

What still waits in the queue unclaimed moves to ``cancelled``, its charge comes back to the
balance it was paid from, and its key hears of it (``sms.cancelled``), all in one transaction.
What a dispatcher holds, what an operator took and what is already final is left as it is, and
counted as ``left``. Scheduled messages are the usual case; a message due now may be cancelled
too, as long as no dispatcher has claimed it yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ileti import codes
from ileti.codes import GatewayError
from ileti.domain.clock import Clock
from ileti.domain.pricing import Balance
from ileti.metrics import MESSAGES_CANCELLED
from ileti.store import lifecycle
from ileti.store.db import Database
from ileti.validation import invalid


class Caller(Protocol):
    @property
    def account_id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Cancelled:
    """What a cancel did: messages cancelled, credits and kuruş given back, and the messages
    it left (held by a dispatcher, taken by an operator, or final already)."""

    cancelled: int
    refunded_credits: int
    refunded_kurus: int
    left: int


def _one_of(sms_id: int | None, group_id: int | None) -> None:
    if (sms_id is None) == (group_id is None):
        raise invalid("sms_id", "give exactly one of sms_id and group_id")


async def cancel(
    db: Database,
    clock: Clock,
    caller: Caller,
    *,
    sms_id: int | None = None,
    group_id: int | None = None,
) -> Cancelled:
    """Cancel what of the caller's message ``sms_id`` or group ``group_id`` has not left yet."""
    _one_of(sms_id, group_id)
    async with db.write(urgent=True) as conn:
        total = await lifecycle.named(conn, caller.account_id, message_id=sms_id, group_id=group_id)
        if total is None:
            raise GatewayError(codes.NOT_FOUND)
        moved = await lifecycle.cancel(
            conn, caller.account_id, clock.now(), message_id=sms_id, group_id=group_id
        )
    MESSAGES_CANCELLED.inc(len(moved))
    main = Balance.MAIN.value
    return Cancelled(
        cancelled=len(moved),
        refunded_credits=sum(m.cost for m in moved if m.cost_balance == main),
        refunded_kurus=sum(m.cost for m in moved if m.cost_balance != main),
        left=total - len(moved),
    )


async def cancellable(
    db: Database, caller: Caller, *, sms_id: int | None = None, group_id: int | None = None
) -> int:
    """How many of the caller's message or group's messages a cancel would stop now (0 for an
    unknown id or another account's)."""
    _one_of(sms_id, group_id)
    async with db.read() as conn:
        if await lifecycle.named(conn, caller.account_id, message_id=sms_id, group_id=group_id):
            return await lifecycle.cancellable(
                conn, caller.account_id, message_id=sms_id, group_id=group_id
            )
    return 0
