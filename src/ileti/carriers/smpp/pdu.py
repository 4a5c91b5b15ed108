"""SMPP 3.4 PDU codec: bytes in, PDU objects out, and back. No I/O.

Only the PDUs and TLVs the gateway uses. Every length is checked: a frame whose declared
length, C-strings or TLVs do not fit is refused with a :class:`PduError` that carries the
``command_status`` a ``generic_nack`` should report.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar

HEADER = struct.Struct(">IIII")
HEADER_SIZE = HEADER.size
# Large enough for a message_payload TLV of 64 KiB plus the fixed fields.
MAX_PDU_SIZE = 70_000
MAX_SEQUENCE = 0x7FFFFFFF
MAX_SHORT_MESSAGE = 254


class CommandId(IntEnum):
    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015


class Status(IntEnum):
    """The ``command_status`` values the gateway sends or reacts to."""

    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RMSGQFUL = 0x14
    ESME_RINVESMCLASS = 0x43
    ESME_RSUBMITFAIL = 0x45
    ESME_RINVSRCTON = 0x48
    ESME_RINVSRCNPI = 0x49
    ESME_RINVDSTTON = 0x50
    ESME_RINVDSTNPI = 0x51
    ESME_RTHROTTLED = 0x58
    ESME_RINVSCHED = 0x61
    ESME_RINVEXPIRY = 0x62
    ESME_RX_T_APPN = 0x64
    ESME_RX_P_APPN = 0x65
    ESME_RX_R_APPN = 0x66
    ESME_RUNKNOWNERR = 0xFF


def status_name(status: int) -> str:
    try:
        return Status(status).name
    except ValueError:
        return f"0x{status:08X}"


class Tag(IntEnum):
    """TLV tags of the optional parameters the gateway reads or writes."""

    SC_INTERFACE_VERSION = 0x0210
    RECEIPTED_MESSAGE_ID = 0x001E
    SAR_MSG_REF_NUM = 0x020C
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    MESSAGE_STATE = 0x0427


class MessageState(IntEnum):
    """Values of the ``message_state`` TLV."""

    ENROUTE = 1
    DELIVERED = 2
    EXPIRED = 3
    DELETED = 4
    UNDELIVERABLE = 5
    ACCEPTED = 6
    UNKNOWN = 7
    REJECTED = 8


# esm_class bits
ESM_UDHI = 0x40
ESM_DELIVERY_RECEIPT = 0x04
ESM_INTERMEDIATE_NOTIFICATION = 0x20
# registered_delivery: final receipt on success and on failure
REGISTERED_DELIVERY_FINAL = 0x01


class PduError(Exception):
    """A frame that cannot be decoded; ``status`` is what a ``generic_nack`` should carry."""

    def __init__(self, status: int, reason: str, command_id: int = 0, sequence: int = 0):
        super().__init__(reason)
        self.status = status
        self.command_id = command_id
        self.sequence = sequence


class FrameSplitter:
    """Cuts a byte stream into whole PDU frames; raises :class:`PduError` on an impossible length.

    A bad ``command_length`` leaves the stream without a trustworthy boundary, so the caller
    must close the connection after answering it.
    """

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer
        if buffer:
            buffer += data
            data = bytes(buffer)
            buffer.clear()
        frames: list[bytes] = []
        pos = 0
        size = len(data)
        while size - pos >= 4:
            length = int.from_bytes(data[pos : pos + 4], "big")
            if length < HEADER_SIZE or length > MAX_PDU_SIZE:
                raise PduError(Status.ESME_RINVCMDLEN, f"command_length {length} out of range")
            if size - pos < length:
                break
            frames.append(data[pos : pos + length])
            pos += length
        if pos < size:
            buffer += data[pos:]
        return frames


@dataclass(slots=True, kw_only=True)
class Pdu:
    command_id: ClassVar[int]
    sequence_number: int = 0
    command_status: int = 0

    def body(self) -> bytes:
        return b""

    def encode(self) -> bytes:
        body = self.body()
        return (
            HEADER.pack(
                HEADER_SIZE + len(body), self.command_id, self.command_status, self.sequence_number
            )
            + body
        )

    @classmethod
    def parse(cls, body: bytes, status: int, sequence: int) -> Pdu:
        if body:
            raise PduError(Status.ESME_RINVCMDLEN, f"{cls.__name__} has a body")
        return cls(sequence_number=sequence, command_status=status)


@dataclass(slots=True, kw_only=True)
class GenericNack(Pdu):
    command_id: ClassVar[int] = CommandId.GENERIC_NACK


@dataclass(slots=True, kw_only=True)
class EnquireLink(Pdu):
    command_id: ClassVar[int] = CommandId.ENQUIRE_LINK


@dataclass(slots=True, kw_only=True)
class EnquireLinkResp(Pdu):
    command_id: ClassVar[int] = CommandId.ENQUIRE_LINK_RESP


@dataclass(slots=True, kw_only=True)
class Unbind(Pdu):
    command_id: ClassVar[int] = CommandId.UNBIND


@dataclass(slots=True, kw_only=True)
class UnbindResp(Pdu):
    command_id: ClassVar[int] = CommandId.UNBIND_RESP


def _cstring(data: bytes, pos: int, limit: int, name: str) -> tuple[str, int]:
    """A NUL-terminated string of at most ``limit`` octets (terminator included)."""
    end = data.find(0, pos, pos + limit)
    if end < 0:
        raise PduError(Status.ESME_RINVCMDLEN, f"{name} unterminated or longer than {limit - 1}")
    return data[pos:end].decode("latin-1"), end + 1


def _pack_cstring(value: str, limit: int, name: str) -> bytes:
    raw = value.encode("latin-1")
    if len(raw) >= limit:
        raise ValueError(f"{name} longer than {limit - 1} octets")
    return raw + b"\0"


def _parse_tlvs(data: bytes, pos: int) -> dict[int, bytes]:
    tlvs: dict[int, bytes] = {}
    size = len(data)
    while pos < size:
        if size - pos < 4:
            raise PduError(Status.ESME_RINVCMDLEN, "truncated TLV header")
        tag = (data[pos] << 8) | data[pos + 1]
        length = (data[pos + 2] << 8) | data[pos + 3]
        pos += 4
        if size - pos < length:
            raise PduError(Status.ESME_RINVCMDLEN, f"TLV 0x{tag:04X} longer than the body")
        tlvs[tag] = data[pos : pos + length]
        pos += length
    return tlvs


def _pack_tlvs(tlvs: dict[int, bytes]) -> bytes:
    return b"".join(struct.pack(">HH", tag, len(value)) + value for tag, value in tlvs.items())


@dataclass(slots=True, kw_only=True)
class BindRequest(Pdu):
    """bind_transmitter, bind_receiver or bind_transceiver, told apart by ``kind``."""

    command_id: ClassVar[int] = CommandId.BIND_TRANSCEIVER
    kind: int = CommandId.BIND_TRANSCEIVER
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    interface_version: int = 0x34
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""

    def encode(self) -> bytes:
        body = self.body()
        header = HEADER.pack(
            HEADER_SIZE + len(body), self.kind, self.command_status, self.sequence_number
        )
        return header + body

    def body(self) -> bytes:
        return b"".join(
            (
                _pack_cstring(self.system_id, 16, "system_id"),
                _pack_cstring(self.password, 9, "password"),
                _pack_cstring(self.system_type, 13, "system_type"),
                bytes((self.interface_version, self.addr_ton, self.addr_npi)),
                _pack_cstring(self.address_range, 41, "address_range"),
            )
        )

    @classmethod
    def parse_as(cls, kind: int, body: bytes, status: int, sequence: int) -> BindRequest:
        system_id, pos = _cstring(body, 0, 16, "system_id")
        password, pos = _cstring(body, pos, 9, "password")
        system_type, pos = _cstring(body, pos, 13, "system_type")
        if len(body) - pos < 3:
            raise PduError(Status.ESME_RINVCMDLEN, "bind body truncated")
        version, ton, npi = body[pos], body[pos + 1], body[pos + 2]
        address_range, pos = _cstring(body, pos + 3, 41, "address_range")
        if pos != len(body):
            raise PduError(Status.ESME_RINVCMDLEN, "bytes after the bind body")
        return cls(
            sequence_number=sequence,
            command_status=status,
            kind=kind,
            system_id=system_id,
            password=password,
            system_type=system_type,
            interface_version=version,
            addr_ton=ton,
            addr_npi=npi,
            address_range=address_range,
        )


@dataclass(slots=True, kw_only=True)
class BindResponse(Pdu):
    """The answer to any bind; ``kind`` is the ``*_resp`` command id."""

    command_id: ClassVar[int] = CommandId.BIND_TRANSCEIVER_RESP
    kind: int = CommandId.BIND_TRANSCEIVER_RESP
    system_id: str = ""
    tlvs: dict[int, bytes] = field(default_factory=dict)

    def encode(self) -> bytes:
        body = self.body() if self.command_status == 0 else b""
        header = HEADER.pack(
            HEADER_SIZE + len(body), self.kind, self.command_status, self.sequence_number
        )
        return header + body

    def body(self) -> bytes:
        return _pack_cstring(self.system_id, 16, "system_id") + _pack_tlvs(self.tlvs)

    @classmethod
    def parse_as(cls, kind: int, body: bytes, status: int, sequence: int) -> BindResponse:
        # A refused bind may come without a body.
        if not body and status != 0:
            return cls(sequence_number=sequence, command_status=status, kind=kind)
        system_id, pos = _cstring(body, 0, 16, "system_id")
        tlvs = _parse_tlvs(body, pos)
        return cls(
            sequence_number=sequence,
            command_status=status,
            kind=kind,
            system_id=system_id,
            tlvs=tlvs,
        )


@dataclass(slots=True, kw_only=True)
class ShortMessagePdu(Pdu):
    """The body shared by submit_sm and deliver_sm."""

    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: dict[int, bytes] = field(default_factory=dict)

    def body(self) -> bytes:
        message = self.short_message
        if len(message) > MAX_SHORT_MESSAGE:
            raise ValueError("short_message longer than 254 octets: use message_payload")
        return b"".join(
            (
                _pack_cstring(self.service_type, 6, "service_type"),
                bytes((self.source_addr_ton, self.source_addr_npi)),
                _pack_cstring(self.source_addr, 21, "source_addr"),
                bytes((self.dest_addr_ton, self.dest_addr_npi)),
                _pack_cstring(self.destination_addr, 21, "destination_addr"),
                bytes((self.esm_class, self.protocol_id, self.priority_flag)),
                _pack_cstring(self.schedule_delivery_time, 17, "schedule_delivery_time"),
                _pack_cstring(self.validity_period, 17, "validity_period"),
                bytes(
                    (
                        self.registered_delivery,
                        self.replace_if_present_flag,
                        self.data_coding,
                        self.sm_default_msg_id,
                        len(message),
                    )
                ),
                message,
                _pack_tlvs(self.tlvs) if self.tlvs else b"",
            )
        )

    @classmethod
    def parse(cls, body: bytes, status: int, sequence: int) -> ShortMessagePdu:
        # The C-strings are read inline: this runs for every message and every receipt.
        size = len(body)
        find = body.find
        end = find(0, 0, 6)
        if end < 0:
            raise PduError(Status.ESME_RINVCMDLEN, "service_type unterminated")
        service_type = body[:end].decode("latin-1")
        pos = end + 3
        end = find(0, pos, pos + 21)
        if end < 0:
            raise PduError(Status.ESME_RINVCMDLEN, "source_addr unterminated")
        source_ton, source_npi = body[pos - 2], body[pos - 1]
        source = body[pos:end].decode("latin-1")
        pos = end + 3
        end = find(0, pos, pos + 21)
        if end < 0:
            raise PduError(Status.ESME_RINVCMDLEN, "destination_addr unterminated")
        dest_ton, dest_npi = body[pos - 2], body[pos - 1]
        destination = body[pos:end].decode("latin-1")
        pos = end + 4
        end = find(0, pos, pos + 17)
        if end < 0:
            raise PduError(Status.ESME_RINVCMDLEN, "schedule_delivery_time unterminated")
        esm_class, protocol_id, priority = body[pos - 3], body[pos - 2], body[pos - 1]
        schedule = body[pos:end].decode("latin-1")
        pos = end + 1
        end = find(0, pos, pos + 17)
        if end < 0:
            raise PduError(Status.ESME_RINVCMDLEN, "validity_period unterminated")
        validity = body[pos:end].decode("latin-1")
        pos = end + 1
        if size - pos < 5:
            raise PduError(Status.ESME_RINVCMDLEN, "body truncated at sm_length")
        registered, replace, coding, default_id, sm_length = body[pos : pos + 5]
        pos += 5
        if size - pos < sm_length:
            raise PduError(Status.ESME_RINVCMDLEN, "short_message longer than the body")
        message = body[pos : pos + sm_length]
        tlvs = _parse_tlvs(body, pos + sm_length) if pos + sm_length < size else {}
        return cls(
            sequence_number=sequence,
            command_status=status,
            service_type=service_type,
            source_addr_ton=source_ton,
            source_addr_npi=source_npi,
            source_addr=source,
            dest_addr_ton=dest_ton,
            dest_addr_npi=dest_npi,
            destination_addr=destination,
            esm_class=esm_class,
            protocol_id=protocol_id,
            priority_flag=priority,
            schedule_delivery_time=schedule,
            validity_period=validity,
            registered_delivery=registered,
            replace_if_present_flag=replace,
            data_coding=coding,
            sm_default_msg_id=default_id,
            short_message=message,
            tlvs=tlvs,
        )


@dataclass(slots=True, kw_only=True)
class SubmitSm(ShortMessagePdu):
    command_id: ClassVar[int] = CommandId.SUBMIT_SM


@dataclass(slots=True, kw_only=True)
class DeliverSm(ShortMessagePdu):
    command_id: ClassVar[int] = CommandId.DELIVER_SM


@dataclass(slots=True, kw_only=True)
class SubmitSmResp(Pdu):
    command_id: ClassVar[int] = CommandId.SUBMIT_SM_RESP
    message_id: str = ""

    def body(self) -> bytes:
        # The spec leaves the body out of an error response.
        if self.command_status != 0:
            return b""
        return _pack_cstring(self.message_id, 65, "message_id")

    @classmethod
    def parse(cls, body: bytes, status: int, sequence: int) -> SubmitSmResp:
        if not body:
            if status == 0:
                raise PduError(Status.ESME_RINVCMDLEN, "submit_sm_resp without message_id")
            return cls(sequence_number=sequence, command_status=status)
        message_id, pos = _cstring(body, 0, 65, "message_id")
        if pos != len(body):
            raise PduError(Status.ESME_RINVCMDLEN, "bytes after message_id")
        return cls(sequence_number=sequence, command_status=status, message_id=message_id)


@dataclass(slots=True, kw_only=True)
class DeliverSmResp(Pdu):
    command_id: ClassVar[int] = CommandId.DELIVER_SM_RESP

    def body(self) -> bytes:
        return b"\0"  # message_id: unused, always empty

    @classmethod
    def parse(cls, body: bytes, status: int, sequence: int) -> DeliverSmResp:
        # Some peers leave out the empty message_id; anything else is malformed.
        if body not in (b"", b"\0"):
            raise PduError(Status.ESME_RINVCMDLEN, "deliver_sm_resp body is not empty")
        return cls(sequence_number=sequence, command_status=status)


_SIMPLE: dict[int, type[Pdu]] = {
    cls.command_id: cls
    for cls in (
        GenericNack,
        EnquireLink,
        EnquireLinkResp,
        Unbind,
        UnbindResp,
        SubmitSm,
        DeliverSm,
        SubmitSmResp,
        DeliverSmResp,
    )
}
_BIND_REQUESTS = {
    CommandId.BIND_RECEIVER,
    CommandId.BIND_TRANSMITTER,
    CommandId.BIND_TRANSCEIVER,
}
_BIND_RESPONSES = {
    CommandId.BIND_RECEIVER_RESP,
    CommandId.BIND_TRANSMITTER_RESP,
    CommandId.BIND_TRANSCEIVER_RESP,
}


def decode(frame: bytes) -> Pdu:
    """One whole frame (as cut by :class:`FrameSplitter`) to its PDU."""
    if len(frame) < HEADER_SIZE:
        raise PduError(Status.ESME_RINVCMDLEN, "frame shorter than a header")
    length, command_id, status, sequence = HEADER.unpack_from(frame)
    if length != len(frame):
        raise PduError(Status.ESME_RINVCMDLEN, "command_length differs from the frame", command_id)
    body = frame[HEADER_SIZE:]
    try:
        cls = _SIMPLE.get(command_id)
        if cls is not None:
            return cls.parse(body, status, sequence)
        if command_id in _BIND_REQUESTS:
            return BindRequest.parse_as(command_id, body, status, sequence)
        if command_id in _BIND_RESPONSES:
            return BindResponse.parse_as(command_id, body, status, sequence)
    except PduError as error:
        error.command_id, error.sequence = command_id, sequence
        raise
    raise PduError(
        Status.ESME_RINVCMDID, f"unknown command_id 0x{command_id:08X}", command_id, sequence
    )


def is_response(command_id: int) -> bool:
    return bool(command_id & 0x80000000)
