"""Large groups: refused before their numbers are read when the account cannot pay for them, and
checked without holding up everyone else's requests meanwhile."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from ileti.domain.clock import utcnow
from ileti.domain.pricing import Balance
from ileti.store import accounts
from ileti.store.models import Message
from support.api import Api, serving

# The account of these tests has 100 credits, the title ACME and no international balance.


async def group(api: Api, numbers: list[object], path: str = "/group/send", **fields: object):
    body = {"api_key": api.key, "title": "ACME", "text": "Kampanya", "sentto": numbers, **fields}
    return await api.client.post(path, json=body)


async def stored(api: Api) -> int:
    async with api.db.read() as conn:
        return (await conn.execute(select(func.count()).select_from(Message))).scalar_one()


async def topup(api: Api, balance: Balance, amount: int) -> None:
    async with api.db.write() as conn:
        await accounts.topup(conn, api.account_id, balance, amount, utcnow())


def refusal(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["result_code"], body["result_message"]


async def test_a_group_the_balance_cannot_pay_a_segment_each_for_is_refused_first(
    api: Api,
) -> None:
    """Its numbers are not even read: 100,000 entries that are no numbers at all are refused
    for the balance, not for the numbers (which would take reading them all)."""
    numbers: list[object] = [str(n) for n in range(100_000)]
    status, code, message = refusal(await group(api, numbers))
    assert (status, code) == (403, "TS-1027")
    assert "100,000 recipients need at least 100,000 credits" in message
    assert "the account has 100 credits" in message
    assert await stored(api) == 0


async def test_repeated_entries_are_one_recipient_for_the_early_refusal(api: Api) -> None:
    numbers: list[object] = [f"90532123{n:04d}" for n in range(100)] * 3
    body = (await group(api, numbers)).json()
    assert (body["result_code"], body["success_count"]) == ("TS-1024", 100)
    assert (await group(api, [f"90533123{n:04d}" for n in range(101)])).json()[
        "result_code"
    ] == "TS-1027"


async def test_the_international_balance_counts_at_its_lowest_price(api: Api) -> None:
    async with api.db.write() as conn:
        await accounts.set_international(conn, api.account_id, True)
    # 100 credits and 6.00 TRY: the cheapest country (US, Canada) takes 0.60 TRY a segment.
    await topup(api, Balance.INTERNATIONAL, 600)
    germans = [f"49151234567{n:02d}" for n in range(3)]
    domestic = [f"90532123{n:04d}" for n in range(100)]
    body = (await group(api, domestic + germans)).json()
    assert (body["result_code"], body["success_count"]) == ("TS-1024", 103)
    status, code, message = refusal(await group(api, [f"90533123{n:04d}" for n in range(120)]))
    assert (status, code) == (403, "TS-1027")
    assert "1.20 TRY (at most 2 segments abroad)" in message


async def test_without_the_switch_the_international_balance_does_not_count(api: Api) -> None:
    async with api.db.write() as conn:
        await accounts.set_international(conn, api.account_id, False)
    await topup(api, Balance.INTERNATIONAL, 100_000)
    _, code, message = refusal(await group(api, [f"90533123{n:04d}" for n in range(101)]))
    assert code == "TS-1027" and "TRY" not in message


async def test_a_title_refusal_still_comes_before_the_balance(api: Api) -> None:
    numbers: list[object] = [f"90533123{n:04d}" for n in range(500)]
    assert refusal(await group(api, numbers, title="acme"))[1] == "TS-1029"


async def test_a_repeat_of_an_accepted_group_gets_its_answer_though_the_balance_is_spent(
    api: Api,
) -> None:
    numbers: list[object] = [f"90532123{n:04d}" for n in range(100)]
    first = (await group(api, numbers)).json()
    assert first["result_code"] == "TS-1024"
    assert (await group(api, numbers)).json() == first
    assert await stored(api) == 100


async def test_other_requests_are_served_while_a_large_group_is_checked(api: Api) -> None:
    """A group of 100,000 is checked a slice at a time: between two slices, whatever else is
    waiting runs (here a task that counts its turns)."""
    await topup(api, Balance.MAIN, 200_000)
    numbers: list[object] = [f"9053{n:08d}" for n in range(100_000)]
    # The last recipient's text is over the cap: every recipient is checked, then the group is
    # refused without a write.
    texts = ["Kampanya"] * 99_999 + ["x" * 2000]
    turns = 0
    done = asyncio.Event()

    async def count_turns() -> None:
        nonlocal turns
        while not done.is_set():
            turns += 1
            await asyncio.sleep(0)

    body = {"api_key": api.key, "title": "ACME", "text": texts, "sentto": numbers}
    # A body this size (about 2.5 MB) needs the limit its operator would raise for it.
    async with serving(api.db, api.clock, max_body_bytes=8 * 1024 * 1024) as (client, _):
        counter = asyncio.create_task(count_turns())
        try:
            response = await client.post("/group/sendMixed", json=body)
        finally:
            done.set()
            await counter
    assert response.json()["result_code"] == "TS-1046"
    assert turns >= 40  # a slice is 2,000 numbers at most: 50 of them, with a turn between
    assert await stored(api) == 0
