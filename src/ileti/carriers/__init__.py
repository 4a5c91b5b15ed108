"""Carriers: the operators' side of the gateway, reached over SMPP 3.4, and an SMSC simulator
that stands in for an operator."""

from __future__ import annotations

from ileti.carriers.base import (
    Carrier,
    DeliveryReceipt,
    InboundMessage,
    OutboundMessage,
    PartResult,
    ReceiptState,
    Received,
    SubmitError,
    SubmitErrorKind,
    SubmitPart,
)
from ileti.carriers.config import BindMode, CarrierConfig
from ileti.carriers.receipts import receipt_keys
from ileti.carriers.simulator import IdForm, SimulatorConfig, SimulatorStats, SmscSimulator
from ileti.carriers.smpp.carrier import SmppCarrier

__all__ = [
    "BindMode",
    "Carrier",
    "CarrierConfig",
    "DeliveryReceipt",
    "IdForm",
    "InboundMessage",
    "OutboundMessage",
    "PartResult",
    "ReceiptState",
    "Received",
    "SimulatorConfig",
    "SimulatorStats",
    "SmppCarrier",
    "SmscSimulator",
    "SubmitError",
    "SubmitErrorKind",
    "SubmitPart",
    "receipt_keys",
]
