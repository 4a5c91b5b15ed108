"""Messages from the queue to a final state through a simulator over real SMPP."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import cast

from sqlalchemy import select

from ileti.carriers import (
    Carrier,
    OutboundMessage,
    PartResult,
    SimulatorConfig,
    SmppCarrier,
    SmscSimulator,
)
from ileti.carriers.smpp.pdu import Status
from ileti.dispatch.dispatcher import Dispatcher, DispatchSettings
from ileti.dispatch.routing import Route, RoutingTable
from ileti.dispatch.sweeper import SETTLE
from ileti.domain import priority
from ileti.domain.encoding import SmsLang
from ileti.domain.lifecycle import NO_RECEIPT
from ileti.domain.pricing import Balance
from ileti.store import ledger, lifecycle
from ileti.store import queue as q
from ileti.store.lifecycle import SubmittedPart
from ileti.store.models import BlacklistEntry, Message, MessagePart, QueueEntry
from support.clock import ManualClock

from .conftest import FAST, Pipeline, default_routes, poll


async def test_every_message_is_delivered_exactly_once(pipeline_factory) -> None:
    pipeline = await pipeline_factory(credits=1000)
    await pipeline.queue(150)
    long_ids = await pipeline.queue(20, text="Uzun mesaj ğüşiöç " * 20, first_number=905330000000)
    pipeline.run_all()
    states = await pipeline.wait_for(lambda s: s.get("delivered", 0) == 170)
    assert states == {"delivered": 170}
    simulator = pipeline.simulators["smsc"]
    # Every part arrived once: 150 single messages and 20 × 3 parts.
    assert sum(simulator.submissions.values()) == 150 + 20 * 3
    assert set(simulator.submissions.values()) == {1}
    async with pipeline.db.read() as conn:
        parts = (
            await conn.execute(
                select(MessagePart.__table__.c.status).where(
                    MessagePart.__table__.c.message_id.in_(long_ids)
                )
            )
        ).all()
        queued = (await conn.execute(select(QueueEntry.__table__))).all()
    assert [p[0] for p in parts] == ["delivered"] * 60
    assert queued == []
    assert await pipeline.balance() == 1000 - 150 - 60


async def test_undelivered_messages_fail_and_are_refunded(pipeline_factory) -> None:
    pipeline = await pipeline_factory(
        credits=100,
        smsc=SimulatorConfig(port=0, receipt_delay=0.05, outcomes={"undelivered": 1.0}),
    )
    await pipeline.queue(40)
    assert await pipeline.balance() == 60
    pipeline.run_all()
    await pipeline.wait_for(lambda s: s.get("failed", 0) == 40)
    assert await pipeline.balance() == 100
    async with pipeline.db.read() as conn:
        assert await ledger.last_balance_after(conn, pipeline.account_id, Balance.MAIN) == 100
        reasons = {r[0] for r in await conn.execute(select(Message.__table__.c.error_reason))}
    assert reasons == {"UNDELIV err:1"}


async def test_no_receipt_expires_after_validity_and_refunds(pipeline_factory) -> None:
    pipeline = await pipeline_factory(
        credits=100, smsc=SimulatorConfig(port=0, outcomes={"none": 1.0})
    )
    validity = timedelta(minutes=5)
    await pipeline.queue(10, validity=validity)
    pipeline.run_all()
    await pipeline.wait_for(lambda s: s.get("sent", 0) == 10)
    sweeper = pipeline.sweeper()
    pipeline.clock.advance(validity.total_seconds())
    await sweeper.sweep()
    # The walk stays SETTLE behind the clock, for records of sends begun within the validity.
    assert await pipeline.states() == {"sent": 10}
    pipeline.clock.advance(SETTLE.total_seconds() - 1)
    await sweeper.sweep()
    assert await pipeline.states() == {"sent": 10}
    pipeline.clock.advance(1)
    await sweeper.sweep()
    assert await pipeline.states() == {"expired": 10}
    assert await pipeline.balance() == 100


class AnsweredLate:
    """A carrier whose operator answers each submit once the messages' validity ran out."""

    def __init__(self, carrier: SmppCarrier, clock: ManualClock, after: timedelta) -> None:
        self.carrier, self.clock, self.after = carrier, clock, after

    async def submit(self, message: OutboundMessage) -> list[PartResult]:
        results = await self.carrier.submit(message)
        self.clock.advance(self.after.total_seconds())
        return results

    def __getattr__(self, name: str) -> object:
        return getattr(self.carrier, name)


async def test_a_send_recorded_after_its_validity_ended_expires_at_once(pipeline_factory) -> None:
    """The sweeper's walk may have passed a message whose validity ended before its send was
    recorded: the dispatcher expires it (and refunds it) as it records it."""
    pipeline = await pipeline_factory(
        credits=100, smsc=SimulatorConfig(port=0, outcomes={"none": 1.0})
    )
    validity = timedelta(minutes=5)
    await pipeline.queue(3, validity=validity)
    late = {
        name: cast(Carrier, AnsweredLate(carrier, pipeline.clock, validity + SETTLE))
        for name, carrier in pipeline.carriers.items()
    }
    dispatcher = Dispatcher(
        pipeline.db, late, default_routes(pipeline.carriers), FAST, clock=pipeline.clock
    )
    pipeline.start(dispatcher.run())
    await pipeline.wait_for(lambda s: s == {"expired": 3})
    assert pipeline.simulators["smsc"].stats.received == 3
    assert await pipeline.balance() == 100
    async with pipeline.db.read() as conn:
        reasons = {r[0] for r in await conn.execute(select(Message.__table__.c.error_reason))}
    assert reasons == {NO_RECEIPT}


async def test_permanent_refusal_fails_and_refunds_without_retrying(pipeline_factory) -> None:
    pipeline = await pipeline_factory(
        credits=100,
        smsc=SimulatorConfig(port=0, reject_share=1.0, reject_status=Status.ESME_RINVDSTADR),
    )
    await pipeline.queue(5)
    pipeline.run_all()
    await pipeline.wait_for(lambda s: s.get("failed", 0) == 5)
    assert pipeline.simulators["smsc"].stats.received == 5
    assert await pipeline.balance() == 100


async def test_throttled_carrier_fails_over_to_the_next_route(pipeline_factory) -> None:
    pipeline = await pipeline_factory(
        busy=SimulatorConfig(port=0, reject_share=1.0, reject_status=Status.ESME_RTHROTTLED),
        spare=SimulatorConfig(port=0, receipt_delay=0.05),
    )
    await pipeline.queue(20)
    configs = tuple(c.config for c in pipeline.carriers.values())
    pipeline.run_all(RoutingTable(configs, (Route("90", ("busy", "spare")),)))
    await pipeline.wait_for(lambda s: s.get("delivered", 0) == 20)
    async with pipeline.db.read() as conn:
        carriers = {r[0] for r in await conn.execute(select(Message.__table__.c.carrier))}
    assert carriers == {"spare"}
    assert sum(pipeline.simulators["spare"].submissions.values()) == 20


async def test_retryable_errors_are_retried_then_fail(pipeline_factory) -> None:
    pipeline = await pipeline_factory(
        credits=50,
        smsc=SimulatorConfig(port=0, reject_share=1.0, reject_status=Status.ESME_RTHROTTLED),
    )
    await pipeline.queue(3)
    dispatcher = pipeline.dispatcher()
    settings = dispatcher.settings
    for attempt in range(1, settings.max_attempts):
        assert await dispatcher.dispatch_once() == 3
        assert await pipeline.states() == {"queued": 3}
        # Backoff with jitter: due again somewhere in the second half of the attempt's ceiling.
        ceiling = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** (attempt - 1))
        pipeline.clock.advance(ceiling / 2 - 0.01)
        assert await dispatcher.dispatch_once() == 0, f"retried too soon after attempt {attempt}"
        pipeline.clock.advance(ceiling / 2 + 0.02)
    assert await dispatcher.dispatch_once() == 3
    assert await pipeline.states() == {"failed": 3}
    # Submitted once per attempt, up to the limit, then refunded.
    assert pipeline.simulators["smsc"].stats.received == 3 * settings.max_attempts == 3 * 6
    assert await pipeline.balance() == 50


async def test_two_dispatchers_never_submit_a_message_twice(pipeline_factory) -> None:
    pipeline = await pipeline_factory(credits=10_000)
    await pipeline.queue(600)
    pipeline.run_all(dispatchers=2)
    await pipeline.wait_for(lambda s: s.get("delivered", 0) == 600, within=60)
    submissions = pipeline.simulators["smsc"].submissions
    assert len(submissions) == 600
    assert set(submissions.values()) == {1}


async def test_submits_the_operator_is_slow_to_answer_keep_their_claim(pipeline_factory) -> None:
    """Submits out for longer than a lease (an operator slow to answer, windows full) keep
    their messages claimed: another worker claims none of them, and none goes out twice."""
    pipeline = await pipeline_factory()
    [simulator] = pipeline.simulators.values()
    simulator.hold()
    await pipeline.queue(20)
    settings = replace(FAST, lease_seconds=0.4)
    pipeline.start(pipeline.dispatcher(settings=settings).run())
    await asyncio.wait_for(simulator.wait_until(lambda s: s.received >= 20), 10)
    other = pipeline.dispatcher(settings=settings)
    # Two leases go by while the operator holds the answers (within the carriers' 2 s
    # response timeout, after which a submit counts as failed and is retried).
    for _ in range(8):
        pipeline.clock.advance(0.1)
        await asyncio.sleep(0.12)
        assert await other.dispatch_once() == 0
    simulator.release()
    pipeline.run_all()
    await pipeline.wait_for(lambda s: s.get("delivered", 0) == 20)
    assert len(simulator.submissions) == 20
    assert set(simulator.submissions.values()) == {1}


async def test_a_late_record_of_a_message_recorded_already_fails_none_of_the_others(
    pipeline_factory,
) -> None:
    """Should a claim lapse all the same (a worker stalled for longer than a lease), the
    message goes out under a second claim too; whichever records second keeps what the first
    recorded, and the rest of its batch is recorded as sent."""
    pipeline = await pipeline_factory()
    first, second = await pipeline.queue(2)
    now = pipeline.clock.now()
    async with pipeline.db.write() as conn:
        await lifecycle.mark_sent(conn, [(first, "smsc", [SubmittedPart(1, "A-1")])], now)
    async with pipeline.db.write() as conn:
        await lifecycle.mark_sent(
            conn,
            [
                (first, "smsc", [SubmittedPart(1, "B-1")]),
                (second, "smsc", [SubmittedPart(1, "B-2")]),
            ],
            now,
        )
    assert await pipeline.states() == {"sent": 2}
    parts = MessagePart.__table__
    async with pipeline.db.read() as conn:
        rows = await conn.execute(select(parts.c.message_id, parts.c.operator_id))
        assert sorted(rows.all()) == [(first, "A-1"), (second, "B-2")]


async def test_a_dead_workers_lease_runs_out_and_its_messages_go_out(pipeline_factory) -> None:
    pipeline = await pipeline_factory()
    ids = await pipeline.queue(5)
    lease = FAST.lease_seconds
    async with pipeline.db.write() as conn:
        claimed = await q.claim(conn, "dead-worker", 10, pipeline.clock.now_ms(), int(lease * 1000))
    assert sorted(c.id for c in claimed) == ids
    dispatcher = pipeline.dispatcher()
    pipeline.clock.advance(lease - 1)
    assert await dispatcher.dispatch_once() == 0  # still leased to the dead worker
    assert await pipeline.states() == {"queued": 5}
    pipeline.clock.advance(2)
    pipeline.run_all()
    await pipeline.wait_for(lambda s: s.get("delivered", 0) == 5)
    assert set(pipeline.simulators["smsc"].submissions.values()) == {1}


async def test_a_message_a_dead_worker_may_have_sent_is_never_reported_as_not_sent(
    pipeline_factory,
) -> None:
    """A worker died after claiming (and maybe submitting) messages; by the time their lease
    ran out so had their validity. They may have reached the operator: expired, never
    "validity ended before dispatch". A message no worker ever claimed did not."""
    pipeline = await pipeline_factory(credits=100)
    validity = timedelta(seconds=30)
    claimed_ids = await pipeline.queue(5, validity=validity)
    async with pipeline.db.write() as conn:
        claimed = await q.claim(conn, "dead-worker", 5, pipeline.clock.now_ms(), 60_000)
    assert sorted(c.id for c in claimed) == claimed_ids
    never_claimed = await pipeline.queue(3, validity=validity, first_number=905330000000)
    assert await pipeline.balance() == 100 - 8
    pipeline.clock.advance(61)

    assert await pipeline.dispatcher().dispatch_once() == 8
    table = Message.__table__
    async with pipeline.db.read() as conn:
        rows = await conn.execute(select(table.c.id, table.c.status, table.c.error_reason))
        ended = {row.id: (row.status, row.error_reason) for row in rows}
    for message_id in claimed_ids:
        status, reason = ended[message_id]
        assert status == "expired"
        assert "before dispatch" not in reason and "may have reached the operator" in reason
    assert {ended[i] for i in never_claimed} == {("failed", "validity ended before dispatch")}
    # Nothing went out now; both kinds end refunded, as every expired or failed message is.
    assert pipeline.simulators["smsc"].stats.received == 0
    assert await pipeline.balance() == 100


# The window tests hold the operator's answers for as long as they need: a submit that timed out
# meanwhile would be retried after a backoff the tests' clock never reaches (a slow machine took
# more than the usual 2 s, and messages stayed queued).
HOLDING = 60.0


async def _window_full(
    pipeline: Pipeline, settings: DispatchSettings = FAST
) -> tuple[SmscSimulator, Dispatcher]:
    """400 bulk messages queued, and a dispatcher whose two loops have claimed a batch of 100
    each, with 50 submits unanswered in the bind's window (the operator holds them)."""
    [simulator] = pipeline.simulators.values()
    simulator.hold()
    await pipeline.queue(400)
    dispatcher = pipeline.dispatcher(settings=settings)
    pipeline.start(dispatcher.run())
    await asyncio.wait_for(simulator.wait_until(lambda s: s.received >= 50), 10)
    return simulator, dispatcher


async def test_a_stopped_dispatcher_records_what_is_out_and_gives_back_the_rest(
    pipeline_factory,
) -> None:
    pipeline = await pipeline_factory(response_timeout=HOLDING)
    # 60 of the 200 claimed handed to the carrier, 50 of those unanswered in its window.
    simulator, dispatcher = await _window_full(pipeline, replace(FAST, submitters=60))
    stopping = asyncio.ensure_future(dispatcher.stop())
    # One turn of the event loop: the stop begins (nothing more is claimed or handed over)
    # and can go no further while the operator holds its answers.
    await asyncio.sleep(0)
    assert not stopping.done(), "a stop waits for the operator's answers"
    simulator.release()
    await asyncio.wait_for(stopping, 10)

    table, queue = Message.__table__, QueueEntry.__table__
    async with pipeline.db.read() as conn:
        messages = (await conn.execute(select(table.c.sentto, table.c.status))).all()
        left = (
            await conn.execute(
                select(queue.c.lease_until_ms, queue.c.lease_owner, queue.c.attempts)
            )
        ).all()
    recorded = {sentto for sentto, status in messages if status != "queued"}
    # What the operator has is recorded as sent, and only that; the claimed rest is due at once
    # for the next worker, with no attempt spent.
    assert recorded == {to for to, _ in simulator.submissions}
    assert len(recorded) == 60
    assert len(left) == 340
    assert set(left) == {(0, None, 0)}

    pipeline.run_all()
    await pipeline.wait_for(lambda s: s.get("delivered", 0) == 400)
    assert len(simulator.submissions) == 400
    assert set(simulator.submissions.values()) == {1}


async def test_receipt_ids_in_another_form_still_match(pipeline_factory) -> None:
    pipeline = await pipeline_factory(
        smsc=SimulatorConfig(
            port=0, receipt_delay=0.05, id_form="decimal", receipt_id_form="hex-padded"
        )
    )
    await pipeline.queue(30)
    pipeline.run_all()
    await pipeline.wait_for(lambda s: s.get("delivered", 0) == 30)


async def test_ret_from_a_number_blacklists_it_for_advertising(pipeline_factory) -> None:
    pipeline = await pipeline_factory()
    pipeline.run_all()
    await pipeline.simulators["smsc"].send_mo("905321234567", "ACME", "ret")
    table = BlacklistEntry.__table__

    async def blacklisted() -> list[tuple]:
        async with pipeline.db.read() as conn:
            rows = await conn.execute(select(table.c.number, table.c.scope))
            return [tuple(r) for r in rows]

    rows = await poll(blacklisted, bool, within=5)
    assert rows == [("905321234567", "advertising")]


async def test_unicode_and_english_messages_reach_the_operator_as_encoded(pipeline_factory) -> None:
    pipeline = await pipeline_factory()
    await pipeline.queue(1, text="Merhaba 😀", lang=SmsLang.UNICODE)
    await pipeline.queue(1, text="Şişli", lang=SmsLang.ENGLISH, first_number=905330000000)
    pipeline.run_all()
    await pipeline.wait_for(lambda s: s.get("delivered", 0) == 2)
    sent = dict(pipeline.simulators["smsc"].submissions)
    assert ("905320000000", "Merhaba 😀".encode("utf-16-be")) in sent
    assert ("905330000000", b"Sisli") in sent


async def test_a_scheduled_message_waits_until_it_is_due(pipeline_factory) -> None:
    pipeline = await pipeline_factory()
    due_in = timedelta(minutes=30)
    [later] = await pipeline.queue(1, due_in=due_in)
    await pipeline.queue(1, first_number=905330000000)
    pipeline.run_all()
    await pipeline.wait_for(lambda s: s.get("delivered", 0) == 1)
    assert await pipeline.dispatcher().dispatch_once() == 0
    async with pipeline.db.read() as conn:
        status = (
            await conn.execute(
                select(Message.__table__.c.status).where(Message.__table__.c.id == later)
            )
        ).scalar_one()
    assert status == "queued"
    pipeline.clock.advance(due_in.total_seconds())
    await pipeline.wait_for(lambda s: s.get("delivered", 0) == 2)


async def test_an_otp_overtakes_bulk_already_claimed_and_waiting_for_the_window(
    pipeline_factory,
) -> None:
    pipeline = await pipeline_factory(response_timeout=HOLDING)
    simulator, dispatcher = await _window_full(pipeline)
    [otp_id] = await pipeline.queue(1, first_number=905559999999, priority=priority.OTP)
    dispatcher.wake(urgent=True)

    async def otp_lease() -> str | None:
        async with pipeline.db.read() as conn:
            return await conn.scalar(
                select(QueueEntry.lease_owner).where(QueueEntry.message_id == otp_id)
            )

    # The operator still holds every bulk submit: only the OTP loop is free to claim it.
    await poll(otp_lease, lambda owner: owner is not None, within=10)
    simulator.release()
    await pipeline.wait_for(lambda s: s.get("sent", 0) + s.get("delivered", 0) == 401)
    order = [destination for destination, _ in simulator.submissions]
    # Right behind the 50 that held the window, ahead of the 150 claimed bulk submits waiting.
    assert order.index("905559999999") <= 50
