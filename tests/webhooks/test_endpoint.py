"""``/webhook/test`` puts a signed ``key.test`` on its way to the key's receiver."""

from __future__ import annotations

import json

from standardwebhooks import Webhook

from support.api import serving
from support.receiver import Receiver

from .conftest import Customer, eventually, sending


async def test_without_a_webhook_it_is_not_found(customer: Customer) -> None:
    async with serving(customer.db) as (client, _):
        response = await client.post("/webhook/test", json={"api_key": customer.key})
    assert response.status_code == 404
    assert response.json()["result_code"] == "TS-1039"
    assert response.json()["result_message"] == "No webhook is configured for this key."


async def test_key_test_arrives_signed(customer: Customer) -> None:
    with Receiver() as receiver:
        config = await customer.hook(receiver.url)
        async with serving(customer.db) as (client, services):
            response = await client.post("/webhook/test/", json={"api_key": customer.key})
            assert response.status_code == 200
            answer = response.json()
            assert answer["result_code"] == "TS-1064" and answer["url"] == receiver.url
            # The sender keeps the gateway's time: the event is due when the gateway made it.
            async with sending(customer.db, clock=services.clock):
                await eventually(lambda: receiver.requests())
    [request] = receiver.requests()
    body = Webhook(config.secret).verify(request.body, request.headers)
    assert body["event_type"] == "key.test"
    assert body["event_id"] == answer["event_id"] == request.headers["webhook-id"]
    assert json.loads(request.body)["data"]["key"] == customer.prefix
