"""What the dispatcher sees of a carrier: messages in, ids or classified errors out, and a
stream of receipts and inbound messages. Nothing here knows what a PDU is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SubmitPart:
    """One part of a message, already encoded (the UDH, if any, leads ``short_message``)."""

    short_message: bytes
    data_coding: int  # 0 GSM 7-bit default alphabet, 8 UCS-2
    udhi: bool = False


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message for one destination: international digits such as ``905321234567``."""

    source: str  # sender ID: alphanumeric or digits
    destination: str
    parts: tuple[SubmitPart, ...]
    validity: timedelta | None = None
    # Goes ahead of ordinary submits waiting for a window slot (OTP).
    urgent: bool = False


class SubmitErrorKind(StrEnum):
    # retryable: the message may go out later, on this carrier or another
    THROTTLED = "throttled"
    QUEUE_FULL = "queue_full"
    BIND_LOST = "bind_lost"
    TIMEOUT = "timeout"
    TEMPORARY = "temporary"
    # permanent: sending it again will fail again
    INVALID_DESTINATION = "invalid_destination"
    INVALID_SOURCE = "invalid_source"
    REJECTED = "rejected"

    @property
    def retryable(self) -> bool:
        return self in _RETRYABLE


_RETRYABLE = frozenset(
    {
        SubmitErrorKind.THROTTLED,
        SubmitErrorKind.QUEUE_FULL,
        SubmitErrorKind.BIND_LOST,
        SubmitErrorKind.TIMEOUT,
        SubmitErrorKind.TEMPORARY,
    }
)


@dataclass(frozen=True, slots=True)
class SubmitError:
    kind: SubmitErrorKind
    status: int | None = None  # the operator's command_status, when it gave one
    detail: str = ""

    @property
    def retryable(self) -> bool:
        return self.kind.retryable


@dataclass(frozen=True, slots=True)
class PartResult:
    """Per part: the operator's message id, or why there is none."""

    message_id: str | None = None
    error: SubmitError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class ReceiptState(StrEnum):
    """A receipt's verdict, in the terms of the delivery lifecycle."""

    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
    ACCEPTED = "accepted"  # accepted, en route or unknown: not final, keep waiting

    @property
    def final(self) -> bool:
        return self is not ReceiptState.ACCEPTED


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    carrier: str
    message_id: str  # as the operator wrote it
    keys: tuple[str, ...]  # normalised forms for matching; see receipts.receipt_keys
    state: ReceiptState
    status: str  # the operator's word: DELIVRD, UNDELIV, ...
    error_code: int | None = None
    submitted_at: datetime | None = None  # as the operator wrote it; its zone is unknown
    done_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A mobile-originated message (an MO), for instance a ``RET`` opt-out."""

    carrier: str
    source: str
    destination: str
    text: str
    data_coding: int
    body: bytes = field(repr=False)  # the undecoded octets, UDH removed


@dataclass(frozen=True, slots=True)
class Received:
    """A receipt or an inbound message waiting for the consumer's word.

    Call :meth:`accept` once it is stored: only then does the operator hear that it arrived.
    :meth:`refuse` (or never answering, then losing the bind) makes the operator send it
    again later, so a crash between the two loses nothing.
    """

    item: DeliveryReceipt | InboundMessage
    _answer: Callable[[bool], None] = field(repr=False, compare=False)

    def accept(self) -> None:
        self._answer(True)

    def refuse(self) -> None:
        self._answer(False)


class Carrier(Protocol):
    """The dispatcher's view of an operator connection."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def submit(self, message: OutboundMessage) -> list[PartResult]: ...

    async def receive(self) -> Received: ...

    async def receive_many(
        self, limit: int = 500, gather: float = 0.0, step: float = 0.005
    ) -> list[Received]: ...

    def received(self) -> AsyncIterator[Received]: ...
