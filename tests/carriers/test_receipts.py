"""Receipts read from text and TLVs, and matched to parts whatever form the id comes in."""

from __future__ import annotations

from datetime import datetime

import pytest

from ileti.carriers import DeliveryReceipt, ReceiptState, receipt_keys
from ileti.carriers.receipts import is_receipt, parse_receipt_text, read_inbound, read_receipt
from ileti.carriers.smpp.pdu import MessageState, Tag

TEXT = (
    b"id:0001A2B3C4 sub:001 dlvrd:001 submit date:2611241530 done date:261124153012 "
    b"stat:DELIVRD err:000 text:Merhaba"
)


def forms(number: int) -> list[str]:
    return [
        str(number),
        f"{number:016d}",
        f"{number:x}",
        f"{number:X}",
        f"{number:012X}",
        f"{number:012x}",
    ]


@pytest.mark.parametrize("number", [439041024, 12345, 10, 0xDEADBEEF, 99999999999])
def test_every_form_of_an_id_shares_a_key_with_every_other(number):
    for sent in forms(number):
        for reported in forms(number):
            assert set(receipt_keys(sent)) & set(receipt_keys(reported)), (sent, reported)


def test_the_own_normal_form_comes_first():
    assert receipt_keys("  00A1F ") == ("a1f", "2591")
    assert receipt_keys("2591") == ("2591", "a1f", "9617")
    assert receipt_keys("0000") == ("0",)


def test_ids_that_are_not_numbers_are_only_folded_in_case():
    assert receipt_keys("Msg-00ab") == ("msg-00ab",)
    assert receipt_keys("") == ("",)


def test_the_text_form_is_read_field_by_field():
    fields = parse_receipt_text(TEXT.decode())
    assert fields["id"] == "0001A2B3C4"
    assert fields["stat"] == "DELIVRD"
    assert fields["done date"] == "261124153012"


def test_an_unusual_layout_is_still_read():
    fields = parse_receipt_text("ID:77 Stat:UNDELIV Err:012 Text:x y done date:2611241530")
    assert (fields["id"], fields["stat"], fields["err"]) == ("77", "UNDELIV", "012")
    assert fields["done date"] == "2611241530"


def test_a_text_receipt_becomes_a_delivery_receipt():
    receipt = read_receipt("op", TEXT, {})
    assert receipt == DeliveryReceipt(
        carrier="op",
        message_id="0001A2B3C4",
        keys=receipt_keys("1a2b3c4"),
        state=ReceiptState.DELIVERED,
        status="DELIVRD",
        error_code=0,
        submitted_at=datetime(2026, 11, 24, 15, 30),
        done_at=datetime(2026, 11, 24, 15, 30, 12),
    )


@pytest.mark.parametrize(
    ("stat", "state"),
    [
        ("DELIVRD", ReceiptState.DELIVERED),
        ("UNDELIV", ReceiptState.FAILED),
        ("REJECTD", ReceiptState.FAILED),
        ("DELETED", ReceiptState.FAILED),
        ("EXPIRED", ReceiptState.EXPIRED),
        ("ACCEPTD", ReceiptState.ACCEPTED),
        ("UNKNOWN", ReceiptState.ACCEPTED),
        ("ENROUTE", ReceiptState.ACCEPTED),
        ("NONSENSE", ReceiptState.ACCEPTED),
    ],
)
def test_every_stat_maps_onto_the_lifecycle(stat, state):
    receipt = read_receipt("op", f"id:5 stat:{stat} err:000".encode(), {})
    assert receipt is not None and receipt.state is state
    assert receipt.state.final is (state is not ReceiptState.ACCEPTED)


@pytest.mark.parametrize(
    ("message_state", "state"),
    [
        (MessageState.DELIVERED, ReceiptState.DELIVERED),
        (MessageState.UNDELIVERABLE, ReceiptState.FAILED),
        (MessageState.REJECTED, ReceiptState.FAILED),
        (MessageState.DELETED, ReceiptState.FAILED),
        (MessageState.EXPIRED, ReceiptState.EXPIRED),
        (MessageState.ACCEPTED, ReceiptState.ACCEPTED),
        (MessageState.UNKNOWN, ReceiptState.ACCEPTED),
        (MessageState.ENROUTE, ReceiptState.ACCEPTED),
    ],
)
def test_the_tlvs_win_over_the_text(message_state, state):
    tlvs = {
        Tag.RECEIPTED_MESSAGE_ID: b"00FF\x00",
        Tag.MESSAGE_STATE: bytes((message_state,)),
        Tag.NETWORK_ERROR_CODE: b"\x03\x00\x22",
    }
    receipt = read_receipt("op", TEXT, tlvs)
    assert receipt is not None
    assert (receipt.message_id, receipt.state, receipt.error_code) == ("00FF", state, 0x22)
    assert receipt.done_at == datetime(2026, 11, 24, 15, 30, 12)


def test_a_receipt_with_tlvs_and_no_text_is_read():
    receipt = read_receipt(
        "op", b"", {Tag.RECEIPTED_MESSAGE_ID: b"abc\x00", Tag.MESSAGE_STATE: b"\x03"}
    )
    assert receipt is not None and receipt.state is ReceiptState.EXPIRED
    assert receipt.done_at is None


def test_a_receipt_naming_no_id_is_refused():
    assert read_receipt("op", b"stat:DELIVRD", {}) is None


def test_receipts_are_told_from_inbound_messages():
    assert is_receipt(0x04, {})
    assert is_receipt(0x20, {})
    assert is_receipt(0x00, {Tag.RECEIPTED_MESSAGE_ID: b"1\x00"})
    assert not is_receipt(0x00, {})
    assert not is_receipt(0x40, {})


def test_an_inbound_message_loses_its_udh_and_keeps_its_octets():
    udh = b"\x05\x00\x03\x01\x02\x01"
    inbound = read_inbound(
        "op", "905321234567", "ILETI", 0x40, 8, udh + "RET".encode("utf-16-be"), {}
    )
    assert (inbound.text, inbound.body) == ("RET", "RET".encode("utf-16-be"))
    assert read_inbound("op", "9", "ILETI", 0, 0, b"", {Tag.MESSAGE_PAYLOAD: b"RET"}).text == "RET"
