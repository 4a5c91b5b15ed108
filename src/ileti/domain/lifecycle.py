"""The delivery lifecycle: which state may follow which. Nothing else moves a message."""

from __future__ import annotations

from enum import StrEnum


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"

    @property
    def final(self) -> bool:
        return self in FINAL

    @property
    def refunded(self) -> bool:
        """A message that ends here gives its credits back."""
        return self in (MessageStatus.FAILED, MessageStatus.EXPIRED)


FINAL = frozenset({MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.EXPIRED})

TRANSITIONS: dict[MessageStatus, frozenset[MessageStatus]] = {
    MessageStatus.QUEUED: frozenset({MessageStatus.SENT, MessageStatus.FAILED}),
    MessageStatus.SENT: frozenset(
        {MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.EXPIRED}
    ),
    MessageStatus.DELIVERED: frozenset(),
    MessageStatus.FAILED: frozenset(),
    MessageStatus.EXPIRED: frozenset(),
}


def may_move(current: MessageStatus, to: MessageStatus) -> bool:
    return to in TRANSITIONS[current]


def sources_of(to: MessageStatus) -> tuple[MessageStatus, ...]:
    """The states a message may be in to move to ``to`` (for conditional updates)."""
    return tuple(state for state, targets in TRANSITIONS.items() if to in targets)


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
