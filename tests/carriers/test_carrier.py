"""The SMPP carrier against the simulator, over real sockets on loopback."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from ileti.carriers import (
    BindMode,
    IdForm,
    InboundMessage,
    OutboundMessage,
    ReceiptState,
    SubmitErrorKind,
    SubmitPart,
    receipt_keys,
)
from ileti.carriers.smpp.pdu import Status
from support.clock import ManualClock


def message(text: bytes = b"hello") -> OutboundMessage:
    return OutboundMessage("ILETI", "905321234567", (SubmitPart(text, 0),))


async def test_a_message_is_submitted_and_its_receipt_comes_back(start_smsc, connect):
    smsc = await start_smsc()
    carrier = await connect(smsc.port)
    [result] = await carrier.submit(message(b"hello"))
    assert result.ok and result.message_id
    received = await asyncio.wait_for(carrier.receive(), 5)
    receipt = received.item
    assert receipt.state is ReceiptState.DELIVERED
    assert set(receipt.keys) & set(receipt_keys(result.message_id))
    received.accept()
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.receipts_acknowledged == 1), 5)
    assert smsc.submissions[("905321234567", b"hello")] == 1


@pytest.mark.parametrize("receipt_form", list(IdForm))
@pytest.mark.parametrize("response_form", [IdForm.DECIMAL, IdForm.HEX_UPPER, IdForm.HEX_PADDED])
async def test_receipts_match_whatever_form_the_operator_writes_ids_in(
    start_smsc, connect, response_form, receipt_form
):
    smsc = await start_smsc(id_form=response_form, receipt_id_form=receipt_form)
    carrier = await connect(smsc.port)
    results = await asyncio.gather(*(carrier.submit(message(b"m%d" % i)) for i in range(20)))
    # As the gateway stores a part: under its id's normal form, then looked up by each key.
    stored = {receipt_keys(result.message_id)[0]: index for index, [result] in enumerate(results)}
    matched = []
    for _ in range(20):
        received = await asyncio.wait_for(carrier.receive(), 5)
        matched.append(next(stored[key] for key in received.item.keys if key in stored))
        received.accept()
    assert sorted(matched) == list(range(20))


async def test_a_receipt_read_from_text_alone_is_matched(start_smsc, connect):
    smsc = await start_smsc(receipt_tlvs=False, receipt_id_form=IdForm.HEX_PADDED)
    carrier = await connect(smsc.port)
    [result] = await carrier.submit(message())
    received = await asyncio.wait_for(carrier.receive(), 5)
    assert set(received.item.keys) & set(receipt_keys(result.message_id))
    assert received.item.done_at is not None


@pytest.mark.parametrize(
    ("outcome", "state"),
    [
        ("delivered", ReceiptState.DELIVERED),
        ("undelivered", ReceiptState.FAILED),
        ("expired", ReceiptState.EXPIRED),
        ("rejected", ReceiptState.FAILED),
    ],
)
async def test_each_outcome_reaches_the_lifecycle(start_smsc, connect, outcome, state):
    smsc = await start_smsc(outcomes={outcome: 1.0})
    carrier = await connect(smsc.port)
    await carrier.submit(message())
    received = await asyncio.wait_for(carrier.receive(), 5)
    assert received.item.state is state


async def test_no_receipt_is_sent_when_the_mix_says_none(start_smsc, connect):
    smsc = await start_smsc(outcomes={"none": 1.0})
    carrier = await connect(smsc.port)
    [result] = await carrier.submit(message())
    assert result.ok
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(carrier.receive(), 0.3)
    assert smsc.stats.receipts_sent == 0


async def test_a_long_message_goes_as_parts_with_udhi_and_each_part_gets_its_id(
    start_smsc, connect
):
    smsc = await start_smsc()
    carrier = await connect(smsc.port)
    parts = tuple(
        SubmitPart(bytes((5, 0, 3, 0x2A, 3, n)) + "ü".encode("utf-16-be") * 67, 8, udhi=True)
        for n in (1, 2, 3)
    )
    results = await carrier.submit(
        OutboundMessage("905551112233", "905321234567", parts, validity=timedelta(hours=2))
    )
    assert all(result.ok for result in results)
    assert len({result.message_id for result in results}) == 3
    assert smsc.stats.accepted == 3
    assert {text for (_, text) in smsc.submissions} == {part.short_message for part in parts}
    receipts = [await asyncio.wait_for(carrier.receive(), 5) for _ in parts]
    assert {r.item.message_id for r in receipts} == {r.message_id for r in results}


async def test_the_submit_sm_carries_what_the_operator_needs(start_smsc, connect):
    smsc = await start_smsc()
    seen = []
    original = smsc._answer_submit

    def spy(connection, pdu):
        seen.append(pdu)
        original(connection, pdu)

    smsc._answer_submit = spy
    carrier = await connect(smsc.port)
    part = SubmitPart(b"\x05\x00\x03\x01\x02\x01abc", 0, udhi=True)
    await carrier.submit(OutboundMessage("ILETI", "905321234567", (part,), timedelta(days=1)))
    await carrier.submit(OutboundMessage("905551112233", "905321234567", (part,)))
    alphanumeric, numeric = seen
    assert (alphanumeric.source_addr_ton, alphanumeric.source_addr_npi) == (5, 0)
    assert (numeric.source_addr_ton, numeric.source_addr_npi) == (1, 1)
    assert (alphanumeric.dest_addr_ton, alphanumeric.dest_addr_npi) == (1, 1)
    assert alphanumeric.esm_class == 0x40
    assert alphanumeric.registered_delivery == 1  # final receipt, success and failure
    assert alphanumeric.validity_period == "000001000000000R"
    assert numeric.validity_period == ""


async def test_a_rejected_submit_is_a_permanent_error(start_smsc, connect):
    smsc = await start_smsc(reject_share=1.0)
    carrier = await connect(smsc.port)
    [result] = await carrier.submit(message())
    assert result.error is not None
    assert (result.error.kind, result.error.retryable) == (SubmitErrorKind.REJECTED, False)
    assert result.error.status == Status.ESME_RSUBMITFAIL


async def test_an_invalid_destination_is_told_apart(start_smsc, connect):
    smsc = await start_smsc(reject_share=1.0, reject_status=Status.ESME_RINVDSTADR)
    carrier = await connect(smsc.port)
    [result] = await carrier.submit(message())
    assert result.error is not None
    assert result.error.kind is SubmitErrorKind.INVALID_DESTINATION
    assert not result.error.retryable


async def test_throttling_is_retryable_and_the_bind_backs_off(start_smsc, connect):
    clock = ManualClock()  # shared, so that the SMSC's rate window moves with the pause
    smsc = await start_smsc(throttle_rate=5, clock=clock)
    carrier = await connect(smsc.port, throttle_backoff=0.3, clock=clock)
    results = await asyncio.gather(*(carrier.submit(message(b"%d" % i)) for i in range(10)))
    kinds = [r.error.kind for [r] in results if r.error]
    assert kinds == [SubmitErrorKind.THROTTLED] * 5  # time stood still: a burst of 5 went
    assert all(r.error.retryable for [r] in results if r.error)
    assert clock.slept == []
    [after] = await carrier.submit(message(b"after"))
    assert clock.slept == [pytest.approx(0.3)]  # the bind waited out its pause, once
    assert after.ok and smsc.stats.throttled == 5


async def test_a_queue_full_answer_is_retryable(start_smsc, connect):
    smsc = await start_smsc(reject_share=1.0, reject_status=Status.ESME_RMSGQFUL)
    carrier = await connect(smsc.port)
    [result] = await carrier.submit(message())
    assert result.error is not None and result.error.kind is SubmitErrorKind.QUEUE_FULL
    assert result.error.retryable


async def test_the_window_bounds_what_is_outstanding(start_smsc, connect):
    smsc = await start_smsc()
    smsc.hold()
    carrier = await connect(smsc.port, window=5)
    submits = [asyncio.create_task(carrier.submit(message(b"%d" % i))) for i in range(12)]
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.received == 5), 5)
    await asyncio.sleep(0.1)  # room for a sixth, were the window not enforced
    assert smsc.stats.received == 5
    smsc.release()
    results = await asyncio.gather(*submits)
    assert all(r.ok for [r] in results)
    assert smsc.stats.accepted == 12


async def test_the_carrier_rate_spaces_submits(start_smsc, connect):
    smsc = await start_smsc()
    clock = ManualClock()
    carrier = await connect(smsc.port, rate=50, binds=2, clock=clock)
    started = clock.monotonic()
    results = await asyncio.gather(*(carrier.submit(message(b"%d" % i)) for i in range(20)))
    assert all(r.ok for [r] in results)
    # 20 at 50/s over both binds, less the first tenth-second burst of 5.
    assert clock.monotonic() - started == pytest.approx(0.3)
    assert clock.slept == [pytest.approx(0.02)] * 15


async def test_the_bind_rate_spaces_submits(start_smsc, connect):
    smsc = await start_smsc()
    clock = ManualClock()
    carrier = await connect(smsc.port, rate_per_bind=40, clock=clock)
    started = clock.monotonic()
    results = await asyncio.gather(*(carrier.submit(message(b"%d" % i)) for i in range(12)))
    assert all(r.ok for [r] in results)
    # 12 at 40/s, less the first tenth-second burst of 4.
    assert clock.monotonic() - started == pytest.approx(0.2)
    assert clock.slept == [pytest.approx(0.025)] * 8


async def test_submits_spread_over_several_binds(start_smsc, connect):
    smsc = await start_smsc()
    smsc.hold()
    carrier = await connect(smsc.port, binds=3, window=2)
    submits = [asyncio.create_task(carrier.submit(message(b"%d" % i))) for i in range(6)]
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.received == 6), 5)
    assert [bind.in_flight for bind in carrier.binds] == [2, 2, 2]
    smsc.release()
    await asyncio.gather(*submits)
    assert smsc.stats.binds == 3


async def test_transmitter_and_receiver_pairs_carry_submits_and_receipts(start_smsc, connect):
    smsc = await start_smsc()
    carrier = await connect(smsc.port, bind_mode=BindMode.TRANSMITTER_RECEIVER, binds=2)
    assert len(carrier.binds) == 4
    results = await asyncio.gather(*(carrier.submit(message(b"%d" % i)) for i in range(10)))
    assert all(r.ok for [r] in results)
    for _ in range(10):
        (await asyncio.wait_for(carrier.receive(), 5)).accept()
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.receipts_acknowledged == 10), 5)


async def test_a_refused_receipt_is_delivered_again(start_smsc, connect):
    smsc = await start_smsc()
    carrier = await connect(smsc.port)
    await carrier.submit(message())
    first = await asyncio.wait_for(carrier.receive(), 5)
    first.refuse()
    again = await asyncio.wait_for(carrier.receive(), 5)
    assert again.item == first.item
    again.accept()
    again.accept()  # answering twice sends one answer
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.receipts_acknowledged == 1), 5)
    assert smsc.stats.receipts_sent == 2


async def test_an_unanswered_receipt_comes_back_after_the_bind_is_lost(start_smsc, connect):
    smsc = await start_smsc()
    carrier = await connect(smsc.port)
    await carrier.submit(message())
    unanswered = await asyncio.wait_for(carrier.receive(), 5)
    smsc.drop_connections()  # as if the consumer crashed before storing it
    again = await asyncio.wait_for(carrier.receive(), 5)
    assert again.item == unanswered.item
    unanswered.accept()  # too late: that bind is gone, so this answer goes nowhere
    again.accept()
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.receipts_acknowledged == 1), 5)


async def test_a_gathered_batch_takes_the_receipts_that_keep_coming(start_smsc, connect):
    smsc = await start_smsc()
    carrier = await connect(smsc.port)

    async def wave(name: bytes, after: float) -> None:
        await asyncio.sleep(after)
        await asyncio.gather(*(carrier.submit(message(b"%s%d" % (name, i))) for i in range(4)))

    waves = asyncio.gather(wave(b"a", 0.0), wave(b"b", 0.2), wave(b"c", 0.4))
    batch = await asyncio.wait_for(carrier.receive_many(500, gather=60.0, step=1.0), 30)
    await waves
    assert len(batch) == 12  # the three waves, 0.2 s apart, in one batch
    for received in batch:
        received.accept()
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.receipts_acknowledged == 12), 5)


async def test_a_gathered_batch_ends_when_the_operator_sends_no_more(start_smsc, connect):
    # An operator with a window of receipts sends no more until these are acknowledged: the
    # batch goes after one quiet step, not after the whole time it may gather.
    smsc = await start_smsc()
    carrier = await connect(smsc.port)
    await asyncio.gather(*(carrier.submit(message(b"%d" % i)) for i in range(5)))
    batch = await asyncio.wait_for(carrier.receive_many(500, gather=60.0, step=0.2), 10)
    assert len(batch) == 5


async def test_a_batch_stopped_while_it_gathers_gives_its_receipts_back(start_smsc, connect):
    smsc = await start_smsc()
    carrier = await connect(smsc.port)
    await carrier.submit(message())
    gathering = asyncio.create_task(carrier.receive_many(500, gather=60.0, step=30.0))
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.receipts_sent == 1), 5)
    await asyncio.sleep(0.2)  # the receipt is read and taken into the batch
    gathering.cancel()
    again = await asyncio.wait_for(carrier.receive(), 5)
    again.accept()
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.receipts_acknowledged == 1), 5)
    assert smsc.stats.receipts_sent == 2  # refused when the batch stopped, then sent again


async def test_a_receipt_that_overtakes_its_response_is_kept(start_smsc, connect):
    smsc = await start_smsc()
    smsc.hold()
    carrier = await connect(smsc.port)
    submit = asyncio.create_task(carrier.submit(message()))
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.received == 1), 5)
    # The SMSC answers, and the consumer takes the receipt before the id is recorded: it waits
    # in the inbox, unanswered, and names the id the submit then gives.
    smsc.release()
    received = await asyncio.wait_for(carrier.receive(), 5)
    assert smsc.stats.receipts_acknowledged == 0
    [result] = await submit
    assert receipt_keys(result.message_id)[0] in received.item.keys
    received.accept()
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.receipts_acknowledged == 1), 5)


async def test_inbound_messages_reach_the_consumer_and_are_acknowledged(start_smsc, connect):
    smsc = await start_smsc()
    carrier = await connect(smsc.port)

    async def consume(count: int) -> list[InboundMessage]:
        items = []
        for _ in range(count):
            received = await carrier.receive()
            received.accept()
            items.append(received.item)
        return items

    consumer = asyncio.create_task(consume(2))
    await asyncio.wait_for(smsc.send_mo("905321234567", "ILETI", "RET"), 5)
    await asyncio.wait_for(smsc.send_mo("905321234567", "4545", "İptal ğüşöç"), 5)
    ret, unicode = await consumer
    assert (ret.source, ret.destination, ret.text) == ("905321234567", "ILETI", "RET")
    assert (unicode.text, unicode.data_coding) == ("İptal ğüşöç", 8)
    assert smsc.stats.mo_acknowledged == 2


async def test_stop_unbinds_cleanly_after_outstanding_submits(start_smsc, connect):
    smsc = await start_smsc()
    smsc.hold()
    carrier = await connect(smsc.port, binds=2)
    submits = [asyncio.create_task(carrier.submit(message(b"%d" % i))) for i in range(4)]
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.received == 4), 5)
    stopping = asyncio.create_task(carrier.stop(drain_timeout=5))
    await asyncio.sleep(0.05)
    smsc.release()
    await stopping
    assert all(r.ok for [r] in await asyncio.gather(*submits))
    assert smsc.stats.unbinds == 2
    [late] = await carrier.submit(message(b"late"))
    assert late.error is not None and late.error.kind is SubmitErrorKind.BIND_LOST


async def test_the_carrier_binds_again_after_the_smsc_drops_it(start_smsc, connect):
    smsc = await start_smsc()
    carrier = await connect(smsc.port)
    smsc.drop_connections()
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.binds == 2), 5)
    await asyncio.wait_for(carrier.wait_bound(), 5)
    [result] = await carrier.submit(message())
    assert result.ok


async def test_a_carrier_with_no_smsc_reports_bind_lost_in_time(connect, free_port):
    carrier = await connect(free_port, wait=False, response_timeout=0.3)
    [result] = await carrier.submit(message())
    assert result.error is not None and result.error.kind is SubmitErrorKind.BIND_LOST
