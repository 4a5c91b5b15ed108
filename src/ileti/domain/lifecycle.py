"""The delivery lifecycle: the moves a message may make, and nothing else.

A message is ``queued`` when accepted, ``sent`` once an operator took it, and ends
``delivered``, ``failed`` or ``expired``; or ``cancelled``, when its customer called it off
before any operator had it. Each move has a cause and one state it starts from;
the store moves a message only by one of these, with its source state as the condition of the
update, so two processes racing to move one message cannot both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in FINAL

    @property
    def refunded(self) -> bool:
        """A message that ends here gives its credits back."""
        return self in (MessageStatus.FAILED, MessageStatus.EXPIRED, MessageStatus.CANCELLED)


FINAL = frozenset(
    {
        MessageStatus.DELIVERED,
        MessageStatus.FAILED,
        MessageStatus.EXPIRED,
        MessageStatus.CANCELLED,
    }
)
# Messages on their way: what the gauges count (the final states only grow, and are counted as
# they happen).
ON_THEIR_WAY = (MessageStatus.QUEUED, MessageStatus.SENT)


@dataclass(frozen=True, slots=True)
class Move:
    """One allowed move: from ``source`` to ``target``, for the reason its name says."""

    name: str
    source: MessageStatus
    target: MessageStatus


# An operator took the message.
SUBMITTED = Move("submitted", MessageStatus.QUEUED, MessageStatus.SENT)
# It never reached an operator: refused by every route, out of retries, or out of validity.
NOT_SENT = Move("not sent", MessageStatus.QUEUED, MessageStatus.FAILED)
# Its validity ended while it waited for another claim, after a claim whose outcome was never
# recorded (its worker died): that claim may have handed it to an operator, so it is no more
# "never sent" than a sent message without a receipt is: it expires, as that one does.
UNRECORDED = Move("unrecorded", MessageStatus.QUEUED, MessageStatus.EXPIRED)
# Its customer called it off while it waited in the queue, unclaimed: no operator has it.
CANCELLED = Move("cancelled", MessageStatus.QUEUED, MessageStatus.CANCELLED)
# The operator's receipt, once every part is final.
DELIVERED = Move("delivered", MessageStatus.SENT, MessageStatus.DELIVERED)
UNDELIVERED = Move("undelivered", MessageStatus.SENT, MessageStatus.FAILED)
RECEIPT_EXPIRED = Move("receipt expired", MessageStatus.SENT, MessageStatus.EXPIRED)
# No final receipt within the validity.
OVERDUE = Move("overdue", MessageStatus.SENT, MessageStatus.EXPIRED)
NO_RECEIPT = "no receipt within the validity period"

MOVES = (
    SUBMITTED,
    NOT_SENT,
    UNRECORDED,
    CANCELLED,
    DELIVERED,
    UNDELIVERED,
    RECEIPT_EXPIRED,
    OVERDUE,
)

_BY_RECEIPT = {move.target: move for move in (DELIVERED, UNDELIVERED, RECEIPT_EXPIRED)}


def by_receipt(final: MessageStatus) -> Move:
    """The move that a final receipt (its parts' combined state) makes."""
    return _BY_RECEIPT[final]


def combine_parts(states: list[MessageStatus]) -> MessageStatus | None:
    """A multipart message's final state from its parts' states, once every part is final.

    Delivered only when every part is; otherwise the first failure (failed before expired).
    """
    if not states or not all(state.final for state in states):
        return None
    if all(state is MessageStatus.DELIVERED for state in states):
        return MessageStatus.DELIVERED
    if MessageStatus.FAILED in states:
        return MessageStatus.FAILED
    return MessageStatus.EXPIRED
