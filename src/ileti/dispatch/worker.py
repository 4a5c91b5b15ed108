"""The worker: carriers, the dispatcher, a receipt consumer per carrier, the sweeper, the upkeep
of PostgreSQL's tables and, when no carrier is configured, the built-in SMSC simulator they all
talk to over SMPP."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import structlog

from ileti.carriers import SimulatorConfig, SmppCarrier, SmscSimulator
from ileti.config import Settings
from ileti.dispatch import routing
from ileti.dispatch.dispatcher import Dispatcher, DispatchSettings
from ileti.dispatch.receipts import ReceiptConsumer
from ileti.dispatch.sweeper import Sweeper
from ileti.dispatch.upkeep import Upkeep
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.iys.sync import IysSync
from ileti.store.db import Database
from ileti.store.keyring import Keyring
from ileti.webhooks.sender import SenderSettings, WebhookSender

log = structlog.get_logger("ileti.worker")


class Worker:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock = SYSTEM_CLOCK,
        keyring: Keyring | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.keyring = keyring or Keyring.from_settings(settings)
        self.simulator: SmscSimulator | None = None
        self.dispatcher: Dispatcher | None = None
        self.webhooks: WebhookSender | None = None

    async def run(self, ready: asyncio.Event | None = None) -> None:
        async with AsyncExitStack() as stack:
            table = await self._routing(stack)
            carriers = {
                config.name: SmppCarrier(config, clock=self.clock) for config in table.carriers
            }
            for carrier in carriers.values():
                await carrier.start()
                stack.push_async_callback(carrier.stop)
            self.dispatcher = Dispatcher(
                self.db,
                carriers,
                table,
                DispatchSettings(
                    batch=self.settings.dispatch_batch, loops=self.settings.dispatch_loops
                ),
                clock=self.clock,
            )
            self.webhooks = WebhookSender(
                self.db,
                SenderSettings.from_settings(self.settings),
                clock=self.clock,
                keyring=self.keyring,
            )
            tasks = [
                self.dispatcher.run(),
                Sweeper(
                    self.db,
                    clock=self.clock,
                    panel_idle_ms=int(self.settings.panel_idle_minutes * 60_000),
                    retention_days=self.settings.retention_days,
                ).run(),
                self.webhooks.run(),
                IysSync(
                    self.db,
                    self.keyring,
                    pull_seconds=self.settings.iys_sync_seconds,
                    clock=self.clock,
                ).run(),
            ]
            if self.db.is_postgres and self.settings.database_upkeep_seconds > 0:
                tasks.append(Upkeep(self.db, self.settings.database_upkeep_seconds).run())
            tasks += [
                ReceiptConsumer(self.db, carrier, self.clock).run() for carrier in carriers.values()
            ]
            log.info("worker_started", carriers=sorted(carriers))
            if ready is not None:
                ready.set()
            await asyncio.gather(*tasks)

    async def _routing(self, stack: AsyncExitStack) -> routing.RoutingTable:
        if self.settings.carriers_file is not None:
            return routing.load(self.settings.carriers_file)
        self.simulator = SmscSimulator(
            SimulatorConfig(host="127.0.0.1", port=self.settings.simulator_port), clock=self.clock
        )
        await self.simulator.start()
        stack.push_async_callback(self.simulator.stop)
        log.info("simulator_started", port=self.simulator.port)
        return routing.simulator_table(self.simulator.port)

    async def stop(self) -> None:
        """Claim nothing more and return once the batches carriers hold are answered and
        recorded and the webhook requests already sent are answered; then cancel ``run``,
        which records those answers and unbinds from the carriers."""
        stopping = [part.stop() for part in (self.dispatcher, self.webhooks) if part is not None]
        await asyncio.gather(*stopping)

    def wake(self, urgent: bool) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake(urgent=urgent)
        if self.webhooks is not None:
            self.webhooks.wake()
