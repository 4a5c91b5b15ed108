"""/auth/check, /balance and /senderid/list as a client sees them."""

from __future__ import annotations

import pytest

from support.api import Api


async def test_auth_check_reports_key_and_account(api: Api) -> None:
    response = await api.post("/auth/check")
    assert response.status_code == 200
    body = response.json()
    assert body["result"] is True
    assert body["result_code"] == "TS-1000"
    assert body["key_details"] == {
        "status": "active",
        "permissions": {
            "send_single_sms": True,
            "send_otp": True,
            "send_bulk_sms": True,
            "check_balance": True,
            "check_sms_status": True,
            "manage_subaccounts": False,
        },
    }
    assert body["account_summary"] == {
        "account_status": "active",
        "balance": {"main": 150, "international": 12.5},
    }
    assert response.headers["x-request-id"]


@pytest.mark.parametrize("path", ["/balance", "/balance/"])
async def test_balance_with_and_without_trailing_slash(api: Api, path: str) -> None:
    response = await api.post(path)
    assert response.status_code == 200
    assert response.json()["result_code"] == "TS-1040"
    assert response.json()["balance"] == {"main": 150, "international": 12.5}


async def test_senderid_list_shows_titles_with_status(api: Api) -> None:
    response = await api.post("/senderid/list/")
    assert response.json()["result_code"] == "TS-1040"
    assert response.json()["titles"] == [
        {"title": "ACME", "status": "active"},
        {"title": "ACME Promo", "status": "pending"},
    ]


async def test_another_account_sees_only_its_own_titles_and_balance(api: Api) -> None:
    from ileti.domain.clock import utcnow
    from ileti.store import accounts

    async with api.db.write() as conn:
        other = await accounts.create_account(conn, "globex", utcnow(), credits=7)
        await accounts.add_title(conn, other.id, "GLOBEX", utcnow(), active=True)
    other_key = await api.new_key(other.id)
    assert (await api.post("/balance", {"api_key": other_key})).json()["balance"]["main"] == 7
    titles = (await api.post("/senderid/list", {"api_key": other_key})).json()["titles"]
    assert titles == [{"title": "GLOBEX", "status": "active"}]
