"""Independent SMPP implementations on the other end, over loopback: ``smpplib`` as a client
of our simulator, and our carrier as a client of ``smpp34``'s server (a Rust SMPP stack)."""

from __future__ import annotations

import asyncio
import socket

import smpp34
import smpplib.client
import smpplib.consts

from ileti.carriers import OutboundMessage, ReceiptState, SubmitPart, receipt_keys


def smpplib_session(port: int, count: int) -> tuple[list[str], list[tuple[int, str]]]:
    """Bind with smpplib, send ``count`` messages asking for receipts, read until every id
    and receipt has come; unbind."""
    client = smpplib.client.Client("127.0.0.1", port, timeout=5, allow_unknown_opt_params=True)
    ids: list[str] = []
    receipts: list[tuple[int, str]] = []
    client.set_message_sent_handler(lambda pdu: ids.append(pdu.message_id.decode()))

    def on_receipt(pdu) -> None:
        receipts.append((pdu.esm_class, pdu.receipted_message_id.decode()))

    client.set_message_received_handler(on_receipt)
    client.connect()
    try:
        client.bind_transceiver(system_id="smpplib", password="any")
        for index in range(count):
            client.send_message(
                source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                source_addr="ILETI",
                dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                destination_addr="905321234567",
                short_message=b"from smpplib %d" % index,
                registered_delivery=True,
            )
        while len(ids) < count or len(receipts) < count:
            client.read_once()
        client.unbind()
    finally:
        client.disconnect()
    return ids, receipts


async def test_smpplib_as_a_client_of_our_simulator(start_smsc):
    smsc = await start_smsc(receipt_tlvs=True)
    ids, receipts = await asyncio.to_thread(smpplib_session, smsc.port, 5)
    assert smsc.stats.accepted == 5 and smsc.stats.unbinds == 1
    assert all(smsc.submissions[("905321234567", b"from smpplib %d" % i)] == 1 for i in range(5))
    assert sorted(receipted for _, receipted in receipts) == sorted(ids)
    assert {esm_class for esm_class, _ in receipts} == {0x04}  # SMSC delivery receipt
    await asyncio.wait_for(smsc.wait_until(lambda stats: stats.receipts_acknowledged == 5), 5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Smpp34Smsc:
    """smpp34's server, answering with hex ids and sending receipts that name them in
    decimal with leading zeros, the mismatch operators are known for."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server = smpp34.Server("127.0.0.1", self.port, system_id="smpp34")
        self.submits: list[smpp34.SubmitSmEvent] = []
        self.unbound = asyncio.Event()
        self.esmes: dict[str, smpp34.Esme] = {}
        self._pushes: set[asyncio.Task[object]] = set()

    async def serve(self) -> None:
        number = 0x1F00
        while True:
            event = await self.server.next()
            if isinstance(event, smpp34.Esme):
                self.esmes[event.session_id] = event
            elif isinstance(event, smpp34.SubmitSmEvent):
                number += 1
                self.submits.append(event)
                event.accept(message_id=f"{number:X}")
                push = asyncio.create_task(self._receipt(event, number))
                self._pushes.add(push)
                push.add_done_callback(self._pushes.discard)
            elif isinstance(event, smpp34.Unbound):
                self.unbound.set()

    async def _receipt(self, submit: smpp34.SubmitSmEvent, number: int) -> object:
        receipt_id = f"{number:010d}"
        text = f"id:{receipt_id} sub:001 dlvrd:001 submit date:2611241530 "
        text += "done date:2611241531 stat:DELIVRD err:000 text:"
        return await self.esmes[submit.session_id].deliver_sm(
            submit.source_addr,
            text.encode(),
            source_addr=submit.destination_addr,
            esm_class=0x04,
            tlvs=[
                smpp34.Tlv(smpp34.TLV_RECEIPTED_MESSAGE_ID, receipt_id.encode() + b"\0"),
                smpp34.Tlv(smpp34.TLV_MESSAGE_STATE, b"\x02"),
            ],
        )


async def test_our_carrier_against_the_smpp34_server(connect):
    smsc = Smpp34Smsc()
    await smsc.server.start()
    serving = asyncio.create_task(smsc.serve())
    try:
        carrier = await connect(smsc.port, system_id="ileti", password="secret")
        parts = (
            SubmitPart(b"\x05\x00\x03\x07\x02\x01first", 0, True),
            SubmitPart(b"\x05\x00\x03\x07\x02\x02second", 0, True),
        )
        results = await carrier.submit(OutboundMessage("ILETI", "905321234567", parts))
        assert all(result.ok for result in results)
        assert [event.esm_class for event in smsc.submits] == [0x40, 0x40]
        assert {event.short_message for event in smsc.submits} == {p.short_message for p in parts}
        assert {event.registered_delivery for event in smsc.submits} == {1}

        unmatched = {result.message_id for result in results}
        for _ in parts:
            received = await asyncio.wait_for(carrier.receive(), 5)
            assert received.item.state is ReceiptState.DELIVERED
            [match] = [i for i in unmatched if set(receipt_keys(i)) & set(received.item.keys)]
            unmatched.discard(match)
            received.accept()
        assert not unmatched

        await carrier.stop()
        await asyncio.wait_for(smsc.unbound.wait(), 5)
    finally:
        serving.cancel()
        await smsc.server.stop()
