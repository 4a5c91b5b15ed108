"""A running dispatch pipeline: simulator(s) over real SMPP, carriers, dispatcher, receipts.

The dispatcher, the receipt consumer and the sweeper read a ``ManualClock``: leases, validity,
schedules and retry backoff run out when a test advances it, not while it waits. The operator
(simulator and carriers) answers over real sockets in real time."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import func, select

from ileti.carriers import CarrierConfig, SimulatorConfig, SmppCarrier, SmscSimulator
from ileti.dispatch.dispatcher import Dispatcher, DispatchSettings
from ileti.dispatch.receipts import ReceiptConsumer
from ileti.dispatch.routing import Route, RoutingTable
from ileti.dispatch.sweeper import Sweeper
from ileti.domain.encoding import SmsLang, measure
from ileti.domain.priority import BULK
from ileti.store import accounts
from ileti.store.db import Database
from ileti.store.models import Message
from support.clock import ManualClock
from support.messages import FIRST_NUMBER, accept, new_message, submission

T = TypeVar("T")

FAST = DispatchSettings(batch=100, loops=2, idle_poll_seconds=0.02)


@dataclass
class Pipeline:
    db: Database
    account_id: int
    simulators: dict[str, SmscSimulator]
    carriers: dict[str, SmppCarrier]
    clock: ManualClock
    tasks: list[asyncio.Task] = field(default_factory=list)

    def dispatcher(
        self, routes: RoutingTable | None = None, settings: DispatchSettings = FAST
    ) -> Dispatcher:
        routes = routes or default_routes(self.carriers)
        return Dispatcher(self.db, self.carriers, routes, settings, clock=self.clock)

    def start(self, *coroutines: Awaitable[None]) -> None:
        self.tasks += [asyncio.ensure_future(c) for c in coroutines]

    def run_all(self, routes: RoutingTable | None = None, dispatchers: int = 1) -> None:
        for _ in range(dispatchers):
            self.start(self.dispatcher(routes).run())
        self.start(*(ReceiptConsumer(self.db, c, self.clock).run() for c in self.carriers.values()))
        # Retries receipts that overtook the record of their submit, as in the worker.
        self.start(Sweeper(self.db, interval=0.2, clock=self.clock).run())

    async def queue(
        self,
        count: int,
        text: str = "Merhaba",
        lang: SmsLang = SmsLang.TURKISH,
        validity: timedelta = timedelta(hours=1),
        first_number: int = FIRST_NUMBER,
        due_in: timedelta = timedelta(0),
        priority: int = BULK,
    ) -> list[int]:
        encoding = measure(text, lang)
        created = self.clock.now()
        stored = await accept(
            self.db,
            submission(
                self.account_id,
                [
                    new_message(
                        str(first_number + i),
                        encoding.segments,
                        text=encoding.transliterated or text,
                        sms_lang=encoding.label,
                        lang=str(lang.value),
                    )
                    for i in range(count)
                ],
                created,
                kind="group",
                priority=priority,
                due_at=created + due_in,
                validity=validity,
            ),
        )
        return stored.message_ids

    async def states(self) -> dict[str, int]:
        table = Message.__table__
        async with self.db.read() as conn:
            rows = await conn.execute(select(table.c.status, func.count()).group_by(table.c.status))
            return dict(rows.all())

    async def balance(self) -> int:
        async with self.db.read() as conn:
            return (await accounts.balances(conn, self.account_id))[0]

    async def wait_for(
        self, condition: Callable[[dict[str, int]], bool], within: float = 30.0
    ) -> dict[str, int]:
        """The messages' states, once ``condition`` holds of them."""
        return await poll(self.states, condition, within)

    def sweeper(self) -> Sweeper:
        return Sweeper(self.db, clock=self.clock)


async def poll(
    read: Callable[[], Awaitable[T]], condition: Callable[[T], bool], within: float = 30.0
) -> T:
    """What ``read`` returns once ``condition`` holds of it; fails after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = await read()
        if condition(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; last read {value!r}")
        await asyncio.sleep(0.05)


def default_routes(carriers: dict[str, SmppCarrier]) -> RoutingTable:
    configs = tuple(c.config for c in carriers.values())
    return RoutingTable(configs, (Route("", tuple(carriers)),))


# How long a carrier waits for the operator's answer to a submit, unless a test says otherwise.
RESPONSE_TIMEOUT = 2.0


def carrier_config(name: str, port: int, response_timeout: float) -> CarrierConfig:
    return CarrierConfig(
        name=name,
        host="127.0.0.1",
        port=port,
        system_id="ileti",
        password="x",
        window=50,
        response_timeout=response_timeout,
        reconnect_min=0.05,
        reconnect_max=0.5,
        throttle_backoff=0.05,
        throttle_backoff_max=0.2,
    )


MakePipeline = Callable[..., Awaitable[Pipeline]]


@pytest.fixture
async def pipeline_factory(db: Database) -> AsyncIterator[MakePipeline]:
    """Build a pipeline with one simulator and carrier per name given."""
    made: list[Pipeline] = []

    async def make(
        credits: int = 100_000,
        response_timeout: float = RESPONSE_TIMEOUT,
        **simulators: SimulatorConfig,
    ) -> Pipeline:
        simulators = simulators or {"smsc": SimulatorConfig(port=0, receipt_delay=0.05)}
        clock = ManualClock()
        async with db.write() as conn:
            account = await accounts.create_account(
                conn, f"acme{len(made)}", clock.now(), credits=credits
            )
            with contextlib.suppress(Exception):
                await accounts.add_title(conn, account.id, "ACME", clock.now(), active=True)
        running: dict[str, SmscSimulator] = {}
        carriers: dict[str, SmppCarrier] = {}
        for name, config in simulators.items():
            simulator = SmscSimulator(config)
            await simulator.start()
            running[name] = simulator
            carriers[name] = SmppCarrier(carrier_config(name, simulator.port, response_timeout))
            await carriers[name].start()
            await asyncio.wait_for(carriers[name].wait_bound(), 10)
        pipeline = Pipeline(db, account.id, running, carriers, clock)
        made.append(pipeline)
        return pipeline

    yield make
    for pipeline in made:
        for task in pipeline.tasks:
            task.cancel()
        await asyncio.gather(*pipeline.tasks, return_exceptions=True)
        for carrier in pipeline.carriers.values():
            await carrier.stop(drain_timeout=0.5)
        for simulator in pipeline.simulators.values():
            await simulator.stop()
