"""Cancels racing running dispatchers: a message ends sent (and charged) or cancelled (and
refunded), never both, and the ledger adds up to the balance."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from ileti.dispatch.dispatcher import DispatchSettings
from ileti.dispatch.receipts import ReceiptConsumer
from ileti.dispatch.sweeper import Sweeper
from ileti.domain.pricing import Balance
from ileti.domain.priority import BULK
from ileti.sending.cancelling import Cancelled
from ileti.sending.service import Sending
from ileti.store.ledger import EntryKind
from ileti.store.models import LedgerEntry, Message, MessagePart, QueueEntry
from support.api import api_settings
from support.messages import FIRST_NUMBER, accept, new_message, submission

from .conftest import Pipeline

GROUPS = 24
EACH = 40
CREDITS = 10_000


class _Caller:
    def __init__(self, account_id: int) -> None:
        self.account_id = account_id
        self.key_id = 1


async def _groups(pipeline: Pipeline) -> list[int]:
    """Groups of ``EACH`` one-segment messages, due now, each number its own."""
    now = pipeline.clock.now()
    made = []
    for g in range(GROUPS):
        stored = await accept(
            pipeline.db,
            submission(
                pipeline.account_id,
                [new_message(str(FIRST_NUMBER + g * 1000 + i)) for i in range(EACH)],
                now,
                grouped=True,
                priority=BULK,
                validity=timedelta(hours=1),
            ),
        )
        assert stored.group_id is not None
        made.append(stored.group_id)
    return made


async def test_a_cancel_racing_the_dispatcher_never_both_sends_and_refunds(
    pipeline_factory,
) -> None:
    pipeline: Pipeline = await pipeline_factory(credits=CREDITS)
    carriers = pipeline.carriers.values()
    groups = await _groups(pipeline)
    sending = Sending(pipeline.db, api_settings(pipeline.db), clock=pipeline.clock)
    caller = _Caller(pipeline.account_id)
    # Small claims, so that the queue empties over many of them while the cancels come in.
    slow = DispatchSettings(batch=7, loops=2, idle_poll_seconds=0.01)
    for _ in range(2):
        pipeline.start(pipeline.dispatcher(settings=slow).run())
    pipeline.start(*(ReceiptConsumer(pipeline.db, c, pipeline.clock).run() for c in carriers))
    pipeline.start(Sweeper(pipeline.db, interval=0.2, clock=pipeline.clock).run())

    async def cancel(group_id: int, after: float) -> Cancelled:
        await asyncio.sleep(after)
        return await sending.cancel(caller, group_id=group_id)

    # The newest first (the dispatchers start on the oldest), several at once.
    outcomes = await asyncio.gather(
        *(cancel(group_id, 0.02 * n) for n, group_id in enumerate(reversed(groups)))
    )
    total = GROUPS * EACH
    states = await pipeline.wait_for(
        lambda s: s.get("delivered", 0) + s.get("cancelled", 0) == total, within=60
    )
    cancelled = sum(o.cancelled for o in outcomes)
    assert states == {"delivered": total - cancelled, "cancelled": cancelled}
    # Both happened: the race was run, not avoided.
    assert 0 < cancelled < total
    assert sum(o.left for o in outcomes) == total - cancelled
    assert sum(o.refunded_credits for o in outcomes) == cancelled

    db = pipeline.db
    messages, parts, ledger = Message.__table__, MessagePart.__table__, LedgerEntry.__table__
    async with db.read() as conn:
        status = dict((await conn.execute(select(messages.c.id, messages.c.status))).all())
        sentto = dict((await conn.execute(select(messages.c.id, messages.c.sentto))).all())
        with_parts = {r[0] for r in await conn.execute(select(parts.c.message_id).distinct())}
        refunds = Counter(
            r[0]
            for r in await conn.execute(
                select(ledger.c.reference).where(ledger.c.kind == EntryKind.REFUND.value)
            )
        )
        entries = (
            await conn.execute(
                select(func.sum(ledger.c.amount)).where(
                    ledger.c.account_id == pipeline.account_id,
                    ledger.c.balance == Balance.MAIN.value,
                )
            )
        ).scalar_one()
        queued = (await conn.execute(select(func.count()).select_from(QueueEntry))).scalar_one()
    submitted = {to for (to, _), n in pipeline.simulators["smsc"].submissions.items() if n}
    for message_id, state in status.items():
        refunded = refunds[f"message:{message_id}"]
        if state == "cancelled":
            assert refunded == 1, message_id
            assert message_id not in with_parts and sentto[message_id] not in submitted
        else:
            assert state == "delivered" and refunded == 0, message_id
            assert message_id in with_parts and sentto[message_id] in submitted
    assert sum(refunds.values()) == cancelled
    balance = await pipeline.balance()
    assert balance == CREDITS - (total - cancelled) == entries
    assert queued == 0
