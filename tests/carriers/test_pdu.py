"""The PDU codec: every PDU the gateway uses survives a round trip, and nothing malformed
gets through as anything but a PduError carrying the status to answer with."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ileti.carriers.smpp.pdu import (
    HEADER,
    BindRequest,
    BindResponse,
    CommandId,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    FrameSplitter,
    GenericNack,
    PduError,
    Status,
    SubmitSm,
    SubmitSmResp,
    Tag,
    Unbind,
    UnbindResp,
    decode,
)

SUBMIT = SubmitSm(
    sequence_number=7,
    source_addr_ton=5,
    source_addr="ILETI",
    dest_addr_ton=1,
    dest_addr_npi=1,
    destination_addr="905321234567",
    esm_class=0x40,
    registered_delivery=1,
    data_coding=8,
    validity_period="000001000000000R",
    short_message=b"\x05\x00\x03\x2a\x02\x01" + "Merhaba dünya".encode("utf-16-be"),
    tlvs={Tag.SAR_MSG_REF_NUM: b"\x00\x2a", Tag.SAR_TOTAL_SEGMENTS: b"\x02"},
)

EVERY_PDU = [
    BindRequest(kind=CommandId.BIND_TRANSCEIVER, system_id="ileti", password="secret"),
    BindRequest(kind=CommandId.BIND_TRANSMITTER, system_id="a", system_type="SMPP"),
    BindRequest(kind=CommandId.BIND_RECEIVER, system_id="a", address_range="^90"),
    BindResponse(kind=CommandId.BIND_TRANSCEIVER_RESP, system_id="smsc"),
    BindResponse(
        kind=CommandId.BIND_RECEIVER_RESP,
        system_id="smsc",
        tlvs={Tag.SC_INTERFACE_VERSION: b"\x34"},
    ),
    BindResponse(kind=CommandId.BIND_TRANSMITTER_RESP, command_status=Status.ESME_RINVPASWD),
    SUBMIT,
    SubmitSmResp(sequence_number=7, message_id="1a2b3c"),
    SubmitSmResp(sequence_number=8, command_status=Status.ESME_RTHROTTLED),
    DeliverSm(
        esm_class=0x04,
        source_addr="905321234567",
        short_message=b"id:1 sub:001 dlvrd:001",
        tlvs={
            Tag.RECEIPTED_MESSAGE_ID: b"1\x00",
            Tag.MESSAGE_STATE: b"\x02",
            Tag.NETWORK_ERROR_CODE: b"\x03\x00\x01",
        },
    ),
    DeliverSm(tlvs={Tag.MESSAGE_PAYLOAD: b"x" * 1000}),
    DeliverSmResp(sequence_number=3),
    EnquireLink(sequence_number=4),
    EnquireLinkResp(sequence_number=4),
    Unbind(sequence_number=5),
    UnbindResp(sequence_number=5),
    GenericNack(sequence_number=6, command_status=Status.ESME_RINVCMDID),
]


@pytest.mark.parametrize("pdu", EVERY_PDU, ids=lambda pdu: type(pdu).__name__)
def test_every_pdu_survives_a_round_trip(pdu):
    frame = pdu.encode()
    assert int.from_bytes(frame[:4], "big") == len(frame)
    assert decode(frame) == pdu


def test_submit_sm_is_laid_out_as_the_spec_says():
    frame = SubmitSm(
        sequence_number=1, source_addr="A", destination_addr="9", short_message=b"hi"
    ).encode()
    body = (
        b"\0" + b"\0\0A\0" + b"\0\0" + b"9\0" + b"\0\0\0" + b"\0" + b"\0" + b"\0\0\0\0" + b"\x02hi"
    )
    assert frame == HEADER.pack(16 + len(body), 4, 0, 1) + body


def test_error_responses_carry_no_body():
    assert len(SubmitSmResp(command_status=Status.ESME_RTHROTTLED).encode()) == 16
    bind = BindResponse(kind=CommandId.BIND_TRANSCEIVER_RESP, command_status=Status.ESME_RINVPASWD)
    assert len(bind.encode()) == 16


def test_field_limits_are_enforced_when_encoding():
    with pytest.raises(ValueError, match="destination_addr"):
        SubmitSm(destination_addr="9" * 21).encode()
    with pytest.raises(ValueError, match="message_payload"):
        SubmitSm(short_message=b"x" * 255).encode()


@pytest.mark.parametrize("pdu", [p for p in EVERY_PDU if p.body()], ids=lambda p: type(p).__name__)
def test_a_truncated_body_is_refused(pdu):
    frame = pdu.encode()
    for cut in range(16, len(frame)):
        truncated = struct.pack(">I", cut) + frame[4:cut]
        try:
            decoded = decode(truncated)
        except PduError as error:
            assert error.status == Status.ESME_RINVCMDLEN
            assert error.command_id == int.from_bytes(frame[4:8], "big")
        else:
            # Cutting exactly at the end of the mandatory fields leaves a shorter valid PDU.
            assert type(decoded) is type(pdu)


def test_an_unknown_command_is_refused_with_invalid_command_id():
    with pytest.raises(PduError) as refused:
        decode(HEADER.pack(16, 0x00000103, 0, 9))  # data_sm: not one the gateway speaks
    assert refused.value.status == Status.ESME_RINVCMDID
    assert refused.value.sequence == 9


def test_a_body_on_a_header_only_pdu_is_refused():
    with pytest.raises(PduError):
        decode(HEADER.pack(17, CommandId.ENQUIRE_LINK, 0, 1) + b"x")


def test_a_declared_length_that_disagrees_with_the_frame_is_refused():
    with pytest.raises(PduError):
        decode(HEADER.pack(40, CommandId.ENQUIRE_LINK, 0, 1))


@pytest.mark.parametrize("length", [0, 15, 1_000_000])
def test_the_splitter_refuses_impossible_lengths(length):
    with pytest.raises(PduError) as refused:
        FrameSplitter().feed(struct.pack(">I", length) + b"\0" * 12)
    assert refused.value.status == Status.ESME_RINVCMDLEN


def test_the_splitter_reassembles_frames_cut_anywhere():
    stream = b"".join(pdu.encode() for pdu in EVERY_PDU)
    for step in (1, 3, 7, 64, len(stream)):
        splitter = FrameSplitter()
        frames = []
        for start in range(0, len(stream), step):
            frames += splitter.feed(stream[start : start + step])
        assert [decode(frame) for frame in frames] == EVERY_PDU


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_decoder(data):
    for frame in (data, struct.pack(">I", len(data) + 4) + data):
        with contextlib.suppress(PduError):
            decode(frame)


@given(st.integers(min_value=16, max_value=300), st.binary(min_size=12, max_size=12), st.binary())
def test_arbitrary_bodies_of_known_commands_never_crash_the_decoder(length, header, body):
    for command_id in CommandId:
        frame = struct.pack(">II", length, command_id) + header[4:] + body
        with contextlib.suppress(PduError):
            decode(frame)
