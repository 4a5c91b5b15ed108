"""A gateway killed in the middle of sending loses no event: another sender takes them over
once their lease runs out. Events may arrive twice (at-least-once), never with another id."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter

from ileti.domain.clock import utcnow
from ileti.domain.webhooks import EventType, make_event
from ileti.store import webhooks as outbox
from ileti.webhooks.sender import SenderSettings
from support.clock import ManualClock
from support.receiver import Receiver

from .conftest import Customer, eventually, sending

SENDER = """
import asyncio, sys
from ileti.store.db import Database
from ileti.webhooks.sender import SenderSettings, WebhookSender
db = Database(sys.argv[1], schema=sys.argv[2] or None)
settings = SenderSettings(allow_private=True, idle_poll_seconds=0.05)
asyncio.run(WebhookSender(db, settings).run())
"""


def start_sender(url: str, schema: str | None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", SENDER, url, schema or ""])


async def test_kill_9_while_sending_loses_nothing(customer: Customer, database_target) -> None:
    # A receiver a little slow to answer, so that the kill finds events in flight.
    with Receiver(lambda _: (200, 0.01)) as receiver:
        await customer.hook(receiver.url)
        made = [
            make_event(
                customer.key_id, EventType.SMS_SENT, {"sms_id": i, "status": "sent"}, utcnow()
            )
            for i in range(1500)
        ]
        async with customer.db.write() as conn:
            await outbox.add(conn, made)
        process = start_sender(database_target.url, database_target.schema)
        try:
            await eventually(lambda: len(receiver.requests()) >= 300, within=30)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        before = len(receiver.requests())
        assert 0 < before < len(made), "the kill should land in the middle of sending"
        # The dead sender's leases run out: the next sender's clock is past every one of them.
        clock = ManualClock()
        clock.advance(SenderSettings().lease_seconds + 1)
        async with sending(customer.db, clock=clock):
            await eventually(lambda: _all_delivered(customer, len(made)), within=60)
    arrived = Counter(r.headers["webhook-id"] for r in receiver.requests())
    assert set(arrived) == {e.id for e in made}


async def _all_delivered(customer: Customer, count: int) -> bool:
    return Counter(str(r["status"]) for r in await customer.events())["delivered"] == count
