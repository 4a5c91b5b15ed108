"""Single sends that arrive together are stored together, and a batch is cut as late as it can
be: the sends that come while its transaction waits to begin go in with it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import select, text

from ileti.sending.acceptance import SendRequest
from ileti.sending.batching import Batcher, Take
from ileti.sending.results import Accepted
from ileti.store.models import Message
from support.api import Api


async def test_items_that_come_while_a_batch_waits_to_be_cut_go_in_with_it() -> None:
    ready = asyncio.Event()
    batches: list[list[int]] = []

    async def process(take: Take[int]) -> list[int]:
        await ready.wait()  # the database's writer, say
        batch = take()
        batches.append(batch)
        return [item * 10 for item in batch]

    batcher: Batcher[int, int] = Batcher(process)
    first = asyncio.ensure_future(batcher.submit(1))
    await asyncio.sleep(0)
    rest = [asyncio.ensure_future(batcher.submit(n)) for n in range(2, 6)]
    await asyncio.sleep(0.01)
    ready.set()
    assert await asyncio.gather(first, *rest) == [10, 20, 30, 40, 50]
    assert batches == [[1, 2, 3, 4, 5]]


async def test_a_lone_item_waits_for_nothing_and_a_limit_splits_a_crowd() -> None:
    batches: list[list[int]] = []

    async def process(take: Take[int]) -> list[int]:
        batch = take()
        batches.append(batch)
        return batch

    batcher: Batcher[int, int] = Batcher(process, limit=3)
    assert await batcher.submit(7) == 7
    assert await asyncio.gather(*(batcher.submit(n) for n in range(5))) == [0, 1, 2, 3, 4]
    assert batches == [[7], [0, 1, 2], [3, 4]]


async def test_a_batch_that_fails_before_it_is_cut_fails_its_items_and_the_next_goes_on() -> None:
    calls = 0

    async def process(take: Take[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk I/O error")
        return [item.upper() for item in take()]

    batcher: Batcher[str, str] = Batcher(process)
    failed = await asyncio.gather(batcher.submit("a"), batcher.submit("b"), return_exceptions=True)
    assert [type(outcome) for outcome in failed] == [OSError, OSError]
    assert await batcher.submit("c") == "C"


async def test_sends_that_wait_for_the_writer_go_in_one_transaction(api: Api) -> None:
    batcher = api.services.sending._singles
    store, batches = batcher.process, []

    async def watched(take: Take[SendRequest]) -> Sequence[Accepted | Exception]:
        def counted() -> list[SendRequest]:
            batches.append(len(taken := take()))
            return taken

        return await store(counted)

    batcher.process = watched
    body = {"api_key": api.key, "title": "ACME", "text": "Merhaba"}
    async with api.db.write() as conn:
        # The account's row is taken: every send waits (on SQLite, for the one writer).
        await conn.execute(
            text("UPDATE accounts SET credits = credits WHERE id = :id"), {"id": api.account_id}
        )
        sends = []
        for n in range(10):
            send = api.post("/sms/send", {**body, "sentto": f"90532123450{n}"})
            sends.append(asyncio.ensure_future(send))
            await asyncio.sleep(0.05)  # each send is waiting before the next comes
        assert not any(send.done() for send in sends)
    answers = [(await send).json() for send in sends]
    assert [answer["result_code"] for answer in answers] == ["TS-1024"] * 10
    assert (await api.services.accounts.balances(api.account_id)).credits == 90
    async with api.db.read() as conn:
        assert len((await conn.execute(select(Message.id))).all()) == 10
    # On SQLite no batch's transaction begins while the writer is held, so the ten are one
    # batch. On PostgreSQL the first batch's transaction begins at once, takes the first send
    # and waits for the row; the other nine are the next batch.
    assert batches == ([10] if api.db.is_sqlite else [1, 9])
