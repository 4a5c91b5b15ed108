"""How to reach one carrier over SMPP."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BindMode(StrEnum):
    TRANSCEIVER = "transceiver"
    TRANSMITTER_RECEIVER = "tx+rx"  # each bind is a transmitter and a receiver connection


@dataclass(frozen=True, slots=True)
class CarrierConfig:
    name: str
    host: str
    port: int = 2775
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    bind_mode: BindMode = BindMode.TRANSCEIVER
    binds: int = 1
    window: int = 50  # outstanding submit_sm per bind
    rate_per_bind: float = 0.0  # messages/s; 0 is no limit
    rate: float = 0.0  # messages/s over all binds; 0 is no limit
    enquire_link_interval: float = 30.0
    response_timeout: float = 10.0
    connect_timeout: float = 10.0
    reconnect_min: float = 1.0  # backoff after a failed connect or bind, doubled each time
    reconnect_max: float = 60.0
    # Pause of a bind after ESME_RTHROTTLED or ESME_RMSGQFUL, doubled while it persists.
    throttle_backoff: float = 1.0
    throttle_backoff_max: float = 30.0
    inbox_size: int = 10_000  # receipts and MO waiting for the consumer

    def __post_init__(self) -> None:
        if self.binds < 1 or self.window < 1:
            raise ValueError("binds and window must be at least 1")
        if self.response_timeout <= 0 or self.enquire_link_interval <= 0:
            raise ValueError("timeouts must be positive")
