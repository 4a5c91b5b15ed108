"""From the API's queue to the customer's receiver: messages go out over SMPP to the simulator,
its receipts come back, and every state change arrives as a signed event."""

from __future__ import annotations

import json
from collections import Counter

from standardwebhooks import Webhook

from dispatch.conftest import MakePipeline, pipeline_factory  # noqa: F401  (a fixture)
from support.receiver import Receiver

from .conftest import Customer, eventually, sending


async def test_sent_and_delivered_events_arrive(
    customer: Customer,
    pipeline_factory: MakePipeline,  # noqa: F811
) -> None:
    pipeline = await pipeline_factory()
    assert customer.key_id == 1  # the key the pipeline's messages carry
    with Receiver() as receiver:
        config = await customer.hook(receiver.url)
        ids = await pipeline.queue(20)
        pipeline.run_all()
        # The sender keeps the pipeline's time: each event is due when its move was made.
        async with sending(customer.db, clock=pipeline.clock):
            await pipeline.wait_for(lambda s: s.get("delivered") == 20)
            await eventually(lambda: len(receiver.requests()) >= 40)
    bodies = [Webhook(config.secret).verify(r.body, r.headers) for r in receiver.requests()]
    assert Counter(b["event_type"] for b in bodies) == {"sms.sent": 20, "sms.delivered": 20}
    assert {b["data"]["sms_id"] for b in bodies} == set(ids)
    assert all(b["data"]["number_of_sms"] == 1 for b in bodies)
    assert len({json.loads(r.body)["event_id"] for r in receiver.requests()}) == 40
