"""An SMSC simulator and carriers bound to it, on loopback, torn down after each test.

Both run on the system clock unless a test hands them another (a ``ManualClock``, to read what
was decided by time instead of waiting for it)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from ileti.carriers import (
    CarrierConfig,
    SimulatorConfig,
    SmppCarrier,
    SmscSimulator,
)
from ileti.domain.clock import SYSTEM_CLOCK, Clock

StartSmsc = Callable[..., Awaitable[SmscSimulator]]
Connect = Callable[..., Awaitable[SmppCarrier]]


def quick_config(port: int, **options: Any) -> CarrierConfig:
    """A carrier config with the short timeouts and backoffs a test can wait for."""
    settings: dict[str, Any] = {
        "name": "test-operator",
        "host": "127.0.0.1",
        "port": port,
        "response_timeout": 2.0,
        "connect_timeout": 2.0,
        "reconnect_min": 0.05,
        "reconnect_max": 0.4,
        "throttle_backoff": 0.05,
        **options,
    }
    return CarrierConfig(**settings)


@pytest.fixture
def free_port() -> int:
    """A port nothing listens on (for a moment: good enough on loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def start_smsc() -> AsyncIterator[StartSmsc]:
    started: list[SmscSimulator] = []

    async def start(*, clock: Clock = SYSTEM_CLOCK, **options: Any) -> SmscSimulator:
        settings = {"port": 0, "receipt_delay": 0.0, "redeliver_delay": 0.05, **options}
        smsc = SmscSimulator(SimulatorConfig(**settings), clock=clock)
        await smsc.start()
        started.append(smsc)
        return smsc

    yield start
    for smsc in started:
        await smsc.stop()


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    carriers: list[SmppCarrier] = []

    async def connect(
        port: int, *, wait: bool = True, clock: Clock = SYSTEM_CLOCK, **options: Any
    ) -> SmppCarrier:
        carrier = SmppCarrier(quick_config(port, **options), clock=clock)
        await carrier.start()
        carriers.append(carrier)
        if wait:
            await asyncio.wait_for(carrier.wait_bound(), 5)
        return carrier

    yield connect
    for carrier in carriers:
        await carrier.stop(drain_timeout=1.0)
