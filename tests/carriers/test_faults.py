"""Faults a carrier must survive, over real sockets: a dropped connection with submits in
flight, a refused bind, an SMSC that writes malformed PDUs or stops answering."""

from __future__ import annotations

import asyncio
import struct
from itertools import islice

import structlog
from prometheus_client import REGISTRY

from ileti.carriers import OutboundMessage, SubmitErrorKind, SubmitPart
from support.clock import ManualClock


def message(text: bytes) -> OutboundMessage:
    return OutboundMessage("ILETI", "905321234567", (SubmitPart(text, 0),))


async def test_submits_outstanding_when_the_smsc_drops_are_answered_or_retried_once(
    start_smsc, connect
):
    smsc = await start_smsc()
    smsc.hold()
    carrier = await connect(smsc.port, window=50)
    texts = [b"message %d" % i for i in range(30)]
    submits = [asyncio.create_task(carrier.submit(message(text))) for text in texts]
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.received == 30), 5)
    smsc.release(10)  # ten answered...
    for answered in islice(asyncio.as_completed(submits, timeout=5), 10):
        await answered
    smsc.drop_connections()  # ...twenty lost with the connection
    results = [result for [result] in await asyncio.gather(*submits)]

    answered = [text for text, r in zip(texts, results, strict=True) if r.ok]
    retry = [text for text, r in zip(texts, results, strict=True) if not r.ok]
    assert len(answered) == 10
    assert all(r.error.kind is SubmitErrorKind.BIND_LOST for r in results if r.error)
    assert all(r.error.retryable for r in results if r.error)
    assert smsc.stats.dropped == 20

    # The dispatcher sends the retryable ones again, once the carrier is bound again.
    smsc.release()
    await asyncio.wait_for(carrier.wait_bound(), 5)
    again = await asyncio.gather(*(carrier.submit(message(text)) for text in retry))
    assert all(r.ok for [r] in again)
    assert smsc.stats.accepted == 30
    assert all(smsc.submissions[("905321234567", text)] == 1 for text in texts)


class ParkingClock(ManualClock):
    """A ManualClock that, from its ``limit``-th sleep on, keeps the sleeper waiting for good:
    a bind refused for good then stops there instead of binding again at once, over and over,
    as long as the test runs."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self._limit = limit
        self.parked = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        if len(self.slept) >= self._limit:
            self.parked.set()
            await asyncio.Event().wait()


async def test_a_refused_bind_is_logged_counted_and_retried_with_backoff(start_smsc, connect):
    smsc = await start_smsc(credentials={"ileti": "right"})
    clock = ParkingClock(limit=4)
    with structlog.testing.capture_logs() as logs:
        carrier = await connect(
            smsc.port,
            wait=False,
            clock=clock,
            system_id="ileti",
            password="wrong",
            reconnect_min=0.1,
            reconnect_max=0.4,
            response_timeout=0.2,
        )
        await asyncio.wait_for(clock.parked.wait(), 5)
    assert smsc.stats.binds_refused == 4
    # Backoffs of 0.1, 0.2, 0.4 and 0.4 s, doubling up to the cap: at least half of each is
    # waited, the rest is jitter.
    first, second, third, fourth = clock.slept
    assert 0.05 <= first <= 0.1
    assert 0.1 <= second <= 0.2
    assert 0.2 <= third <= 0.4
    assert 0.2 <= fourth <= 0.4
    failures = [entry for entry in logs if entry["event"] == "smpp_bind_failed"]
    assert len(failures) == 4 and failures[0]["log_level"] == "error"
    assert failures[0]["reason"] == "ESME_RINVPASWD"
    counted = REGISTRY.get_sample_value(
        "ileti_carrier_bind_failures_total",
        {"carrier": "test-operator", "reason": "ESME_RINVPASWD"},
    )
    assert counted is not None and counted >= 4
    [result] = await carrier.submit(message(b"x"))
    assert result.error is not None and result.error.kind is SubmitErrorKind.BIND_LOST


async def test_an_unanswered_submit_times_out_and_its_late_answer_is_ignored(start_smsc, connect):
    smsc = await start_smsc()
    smsc.hold()
    carrier = await connect(smsc.port, response_timeout=0.3)
    [result] = await carrier.submit(message(b"slow"))
    assert result.error is not None and result.error.kind is SubmitErrorKind.TIMEOUT
    assert result.error.retryable
    smsc.release()  # the late answer must not disturb anything
    [after] = await carrier.submit(message(b"next"))
    assert after.ok


# A deliberately plain SMSC, written with struct alone, that misbehaves on cue.

HEADER = struct.Struct(">IIII")
BIND_TRANSCEIVER, SUBMIT_SM, DELIVER_SM, ENQUIRE_LINK = 0x09, 0x04, 0x05, 0x15
GENERIC_NACK = 0x80000000


def raw_pdu(command_id: int, sequence: int, body: bytes = b"", status: int = 0) -> bytes:
    return HEADER.pack(16 + len(body), command_id, status, sequence) + body


async def read_raw(reader: asyncio.StreamReader) -> tuple[int, int, int, bytes]:
    length, command_id, status, sequence = HEADER.unpack(await reader.readexactly(16))
    return command_id, status, sequence, await reader.readexactly(length - 16)


class RawSmsc:
    """Accepts connections and hands them to the test, bound, as (reader, writer)."""

    def __init__(self) -> None:
        self.connections: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        self.connections = asyncio.Queue()

    async def __aenter__(self) -> RawSmsc:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        self.server.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        command_id, _, sequence, _ = await read_raw(reader)
        assert command_id == BIND_TRANSCEIVER
        writer.write(raw_pdu(0x80000009, sequence, b"raw\0"))
        await self.connections.put((reader, writer))

    async def next_connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.wait_for(self.connections.get(), 5)


def receipt_body(message_id: str) -> bytes:
    text = f"id:{message_id} sub:001 dlvrd:001 submit date:2611241530 done date:2611241531"
    text += " stat:DELIVRD err:000 text:"
    fixed = b"\0" + b"\1\1905321234567\0" + b"\5\0ILETI\0" + b"\x04\0\0" + b"\0\0" + b"\0\0\0\0"
    return fixed + bytes((len(text),)) + text.encode()


async def test_malformed_pdus_are_nacked_and_never_crash_the_client(connect):
    async with RawSmsc() as smsc:
        carrier = await connect(smsc.port)
        reader, writer = await smsc.next_connection()

        writer.write(raw_pdu(0x0000FFFF, 100))  # a command no one knows
        assert await read_raw(reader) == (GENERIC_NACK, 0x03, 100, b"")  # ESME_RINVCMDID

        writer.write(raw_pdu(DELIVER_SM, 101, b"\0\1\1905"))  # body cut short
        assert await read_raw(reader) == (GENERIC_NACK, 0x02, 101, b"")  # ESME_RINVCMDLEN

        # A submit_sm_resp whose message_id never ends: that submit fails, retryably.
        submit = asyncio.create_task(carrier.submit(message(b"a")))
        command_id, _, sequence, _ = await read_raw(reader)
        assert command_id == SUBMIT_SM
        writer.write(raw_pdu(0x80000004, sequence, b"abc"))
        [result] = await submit
        assert result.error is not None and result.error.retryable

        # A submit answered with generic_nack (some SMSCs throttle so): classified by status.
        submit = asyncio.create_task(carrier.submit(message(b"b")))
        _, _, sequence, _ = await read_raw(reader)
        writer.write(raw_pdu(GENERIC_NACK, sequence, status=0x58))
        [result] = await submit
        assert result.error is not None and result.error.kind is SubmitErrorKind.THROTTLED

        # After all that, the session still works: a receipt goes through and is answered.
        writer.write(raw_pdu(DELIVER_SM, 102, receipt_body("77")))
        received = await asyncio.wait_for(carrier.receive(), 5)
        assert received.item.message_id == "77"
        received.accept()
        assert await read_raw(reader) == (0x80000005, 0, 102, b"\0")

        # A length no frame can have leaves no frame boundary: nack, close, bind again.
        writer.write(struct.pack(">I", 8) + b"\0" * 12)
        assert await read_raw(reader) == (GENERIC_NACK, 0x02, 0, b"")
        assert await reader.read() == b""
        await smsc.next_connection()
        await asyncio.wait_for(carrier.wait_bound(), 5)


async def test_an_smsc_that_stops_answering_enquire_link_is_left_and_bound_again(connect):
    async with RawSmsc() as smsc:
        await connect(smsc.port, enquire_link_interval=0.1, response_timeout=0.3)
        reader, writer = await smsc.next_connection()
        command_id, _, sequence, _ = await asyncio.wait_for(read_raw(reader), 2)
        assert command_id == ENQUIRE_LINK
        writer.write(raw_pdu(0x80000015, sequence))
        command_id, _, _, _ = await asyncio.wait_for(read_raw(reader), 2)
        assert command_id == ENQUIRE_LINK  # this one goes unanswered
        assert await asyncio.wait_for(reader.read(), 2) == b""
        await smsc.next_connection()
