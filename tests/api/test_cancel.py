"""``POST /sms/cancel``: a scheduled message or group called off by id, refunded, and shown as
``cancelled`` by the status and the reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from ileti.domain.permissions import Permission
from ileti.domain.schedule import ISTANBUL
from ileti.store import accounts
from support.api import Api

NUMBERS = ["905321234567", "905331234567", "905421234567"]
GERMAN = "4915123456789"


def _later(api: Api) -> dict[str, Any]:
    at = (api.clock.now() + timedelta(hours=3)).astimezone(ISTANBUL)
    return {
        "scheduled_sms": 1,
        "scheduled_date": at.strftime("%Y-%m-%d"),
        "scheduled_time": at.strftime("%H:%M"),
    }


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"] is True, body
    return body


async def _group(api: Api, numbers: list[str] = NUMBERS) -> int:
    body = {"api_key": api.key, "title": "ACME", "text": "Randevu", "sentto": numbers}
    return _ok(await api.post("/group/send", {**body, **_later(api)}))["group_id"]


async def _single(api: Api, number: str = NUMBERS[0]) -> int:
    body = {"api_key": api.key, "title": "ACME", "text": "Randevu", "sentto": number}
    return _ok(await api.post("/sms/send", {**body, **_later(api)}))["sms_id"]


async def _cancel(api: Api, key: str | None = None, **ids: object) -> httpx.Response:
    return await api.post("/sms/cancel", {"api_key": key or api.key, **ids})


async def _balance(api: Api) -> tuple[int, int]:
    """Credits, and the international balance in kuruş."""
    balance = _ok(await api.post("/balance"))["balance"]
    return balance["main"], round(balance["international"] * 100)


async def test_a_scheduled_group_is_cancelled_and_refunded(api: Api) -> None:
    group_id = await _group(api)
    body = _ok(await _cancel(api, group_id=group_id))
    assert body == {
        "result": True,
        "result_code": "TS-1064",
        "result_message": "Operation successful.",
        "cancelled": 3,
        "refunded_credits": 3,
        "refunded_international": 0,
        "left": 0,
    }
    status = _ok(await api.post("/sms/status", {"api_key": api.key, "sms_id": group_id}))
    assert status["counts"] == {
        "queued": 0,
        "sent": 0,
        "delivered": 0,
        "failed": 0,
        "expired": 0,
        "cancelled": 3,
    }
    again = _ok(await _cancel(api, group_id=str(group_id)))
    assert (again["cancelled"], again["refunded_credits"], again["left"]) == (0, 0, 3)
    assert (await _balance(api))[0] == 150


async def test_a_single_message_shows_cancelled_in_status_and_reports(api: Api) -> None:
    sms_id = await _single(api)
    other = await _single(api, NUMBERS[1])
    assert _ok(await _cancel(api, sms_id=sms_id))["cancelled"] == 1
    status = _ok(await api.post("/sms/status", {"api_key": api.key, "sms_id": sms_id}))
    assert status["status"] == "cancelled" and status["done_at"] is not None
    page = _ok(await api.post("/reports/messages", {"api_key": api.key, "status": "cancelled"}))
    assert [m["sms_id"] for m in page["messages"]] == [sms_id]
    summary = _ok(await api.post("/reports/summary", {"api_key": api.key}))
    assert {(d["status"], d["count"]) for d in summary["days"]} == {
        ("cancelled", 1),
        ("queued", 1),
    }
    assert _ok(await api.post("/sms/status", {"api_key": api.key, "sms_id": other}))["status"] == (
        "queued"
    )


async def test_an_international_message_refunds_its_kurus(api: Api) -> None:
    before = (await _balance(api))[1]
    sms_id = await _single(api, GERMAN)
    charged = before - (await _balance(api))[1]
    body = _ok(await _cancel(api, sms_id=sms_id))
    assert (body["refunded_credits"], body["refunded_international"]) == (0, charged)
    assert charged > 0 and (await _balance(api))[1] == before


async def test_another_accounts_or_an_unknown_id_is_ts_1039(api: Api) -> None:
    group_id = await _group(api)
    sms_id = await _single(api)
    async with api.db.write() as conn:
        other = await accounts.create_account(conn, "globex", api.clock.now(), credits=10)
    rival = await api.new_key(other.id)
    for ids in ({"group_id": group_id}, {"sms_id": sms_id}, {"sms_id": 987654321}):
        response = await _cancel(api, rival, **ids)
        assert response.status_code == 404
        assert response.json()["result_code"] == "TS-1039"
    assert (await _balance(api))[0] == 150 - 4


async def test_the_permission_is_the_one_that_sends_it(api: Api) -> None:
    group_id = await _group(api)
    sms_id = await _single(api)
    no_bulk = await api.new_key(deny={Permission.SEND_BULK_SMS})
    no_single = await api.new_key(deny={Permission.SEND_SINGLE_SMS})
    refused = await _cancel(api, no_bulk, group_id=group_id)
    assert (refused.status_code, refused.json()["result_code"]) == (403, "TS-1065")
    refused = await _cancel(api, no_single, sms_id=sms_id)
    assert (refused.status_code, refused.json()["result_code"]) == (403, "TS-1065")
    assert _ok(await _cancel(api, no_single, group_id=group_id))["cancelled"] == 3
    assert _ok(await _cancel(api, no_bulk, sms_id=sms_id))["cancelled"] == 1


async def test_exactly_one_id_is_given(api: Api) -> None:
    for ids in ({}, {"sms_id": 1, "group_id": 2}):
        response = await _cancel(api, **ids)
        assert (response.status_code, response.json()["result_code"]) == (400, "TS-1035")
    response = await _cancel(api, sms_id="abc")
    assert (response.status_code, response.json()["result_code"]) == (400, "TS-1035")


async def test_the_endpoint_is_documented(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()
    operation = document["paths"]["/sms/cancel"]["post"]
    assert {"TS-1064", "TS-1039", "TS-1065"} <= set(operation["x-resultCodes"])
    response = document["components"]["schemas"]["CancelResponse"]["properties"]
    assert {"cancelled", "refunded_credits", "refunded_international", "left"} <= set(response)
    counts = document["components"]["schemas"]["StatusCounts"]["properties"]
    assert "cancelled" in counts
