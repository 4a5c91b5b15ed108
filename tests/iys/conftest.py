"""An İYS simulator on loopback, stopped after each test.

The simulator runs on the system clock unless a test hands it another (a ``ManualClock``, to
let tokens run out without waiting)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from ileti.iys.simulator import IysSimulator

StartIys = Callable[..., Awaitable[IysSimulator]]


@pytest.fixture
async def start_iys() -> AsyncIterator[StartIys]:
    started: list[IysSimulator] = []

    async def start(**options: Any) -> IysSimulator:
        simulator = IysSimulator(**options)
        await simulator.start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        await simulator.stop()


@pytest.fixture
async def iys(start_iys: StartIys) -> IysSimulator:
    return await start_iys()
