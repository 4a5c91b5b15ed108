"""When sends wait too long to be stored, new ones are refused at once with TS-1051 and
Retry-After, nothing stored or charged; once the store catches up, sends go in again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text

from ileti.store.db import Database
from ileti.store.models import Message
from support.api import Api, acme_api

WAIT = 0.2


@pytest.fixture
async def api(db: Database) -> AsyncIterator[Api]:
    async with acme_api(db, overload_seconds=WAIT) as opened:
        yield opened


def _send(api: Api, number: str) -> asyncio.Task:
    body = {"api_key": api.key, "title": "ACME", "sentto": number, "text": "Merhaba"}
    return asyncio.ensure_future(api.post("/sms/send", body))


async def test_sends_are_refused_at_once_while_the_store_is_held_up(api: Api) -> None:
    async with api.db.write() as conn:
        # The account's row is taken: every send waits for it (on SQLite, for the writer).
        await conn.execute(
            text("UPDATE accounts SET credits = credits WHERE id = :id"), {"id": api.account_id}
        )
        first = _send(api, "905321234567")
        await asyncio.sleep(WAIT * 2)
        refused = await asyncio.wait_for(
            api.post(
                "/sms/send",
                {"api_key": api.key, "title": "ACME", "sentto": "905321234568", "text": "Merhaba"},
            ),
            5,
        )
        assert not first.done()
    reply = refused.json()
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert reply["result_code"] == "TS-1051"
    assert "overloaded" in reply["result_message"]
    # The waiting send went in once the store was free; the refused one left nothing behind.
    assert (await first).json()["result_code"] == "TS-1024"
    async with api.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(Message))).scalar_one() == 1
    assert (await api.services.accounts.balances(api.account_id)).credits == 99
    again = (await _send(api, "905321234568")).json()
    assert again["result_code"] == "TS-1024"
