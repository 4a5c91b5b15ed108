"""``/webhook/test`` puts a signed ``key.test`` on its way to the key's receiver."""

from __future__ import annotations

import json

import httpx
from standardwebhooks import Webhook

from ileti.api.app import create_app
from support.api import api_settings
from support.receiver import Receiver

from .conftest import Customer, eventually, sending


def _client(customer: Customer) -> httpx.AsyncClient:
    app = create_app(api_settings(customer.db), customer.db)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


async def test_without_a_webhook_it_is_not_found(customer: Customer) -> None:
    async with _client(customer) as client:
        response = await client.post("/webhook/test", json={"api_key": customer.key})
    assert response.status_code == 404
    assert response.json()["result_code"] == "TS-1039"
    assert response.json()["result_message"] == "No webhook is configured for this key."


async def test_key_test_arrives_signed(customer: Customer) -> None:
    with Receiver() as receiver:
        config = await customer.hook(receiver.url)
        async with _client(customer) as client:
            response = await client.post("/webhook/test/", json={"api_key": customer.key})
        assert response.status_code == 200
        answer = response.json()
        assert answer["result_code"] == "TS-1064" and answer["url"] == receiver.url
        async with sending(customer.db):
            await eventually(lambda: receiver.requests())
    [request] = receiver.requests()
    body = Webhook(config.secret).verify(request.body, request.headers)
    assert body["event_type"] == "key.test"
    assert body["event_id"] == answer["event_id"] == request.headers["webhook-id"]
    assert json.loads(request.body)["data"]["key"] == customer.prefix
