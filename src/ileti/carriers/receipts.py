"""Delivery receipts: reading them from ``deliver_sm``, and the keys that match them to
submitted parts.

Operators report a message id in whatever form they like: hex where ``submit_sm_resp`` gave
decimal or the reverse, with or without leading zeros, in either case. :func:`receipt_keys`
turns an id into every key it may match, and is used on both sides.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from ileti.carriers.base import DeliveryReceipt, InboundMessage, ReceiptState
from ileti.carriers.smpp.pdu import (
    ESM_DELIVERY_RECEIPT,
    ESM_INTERMEDIATE_NOTIFICATION,
    ESM_UDHI,
    MessageState,
    Tag,
)

_HEX = frozenset("0123456789abcdef")
_DECIMAL = frozenset("0123456789")


def receipt_keys(message_id: str) -> tuple[str, ...]:
    """The keys under which an id may be found, its own normal form first.

    ``"00A1F"`` gives ``("a1f", "2591")``; ``"2591"`` gives ``("2591", "a1f", "9617")``:
    a decimal-looking id may also be hex, so both readings are offered.
    """
    text = message_id.strip().lower()
    if not text or not _HEX.issuperset(text):
        return (text,)
    text = text.lstrip("0") or "0"
    keys = [text]
    if _DECIMAL.issuperset(text):
        keys.append(format(int(text), "x"))
    keys.append(str(int(text, 16)))
    return tuple(dict.fromkeys(keys))


_STAT_STATES = {
    "DELIVRD": ReceiptState.DELIVERED,
    "UNDELIV": ReceiptState.FAILED,
    "REJECTD": ReceiptState.FAILED,
    "DELETED": ReceiptState.FAILED,
    "EXPIRED": ReceiptState.EXPIRED,
    "ACCEPTD": ReceiptState.ACCEPTED,
    "UNKNOWN": ReceiptState.ACCEPTED,
    "ENROUTE": ReceiptState.ACCEPTED,
}
_TLV_STATES = {
    bytes((MessageState.DELIVERED,)): ("DELIVRD", ReceiptState.DELIVERED),
    bytes((MessageState.UNDELIVERABLE,)): ("UNDELIV", ReceiptState.FAILED),
    bytes((MessageState.REJECTED,)): ("REJECTD", ReceiptState.FAILED),
    bytes((MessageState.DELETED,)): ("DELETED", ReceiptState.FAILED),
    bytes((MessageState.EXPIRED,)): ("EXPIRED", ReceiptState.EXPIRED),
    bytes((MessageState.ACCEPTED,)): ("ACCEPTD", ReceiptState.ACCEPTED),
    bytes((MessageState.UNKNOWN,)): ("UNKNOWN", ReceiptState.ACCEPTED),
    bytes((MessageState.ENROUTE,)): ("ENROUTE", ReceiptState.ACCEPTED),
}
_FIELD = re.compile(r"(id|sub|dlvrd|submit date|done date|stat|err|text):", re.IGNORECASE)
# The layout nearly every operator sends, read in one step before the general parse.
_STANDARD = re.compile(
    r"id:(\S*) sub:(\S*) dlvrd:(\S*) submit date:(\d*) done date:(\d*) stat:(\S*) err:(\S*)"
)
_STANDARD_NAMES = ("id", "sub", "dlvrd", "submit date", "done date", "stat", "err")


def parse_receipt_text(text: str) -> dict[str, str]:
    """``id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…`` to its fields."""
    standard = _STANDARD.match(text)
    if standard is not None:
        return dict(zip(_STANDARD_NAMES, standard.groups(), strict=True))
    fields: dict[str, str] = {}
    matches = list(_FIELD.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        name = match.group(1).lower()
        if name not in fields:
            fields[name] = text[match.end() : end].strip()
    return fields


@lru_cache(maxsize=256)  # receipts done in the same minute share their dates
def _receipt_date(value: str | None) -> datetime | None:
    """YYMMDDhhmm or YYMMDDhhmmss, as the operator wrote it."""
    if not value or len(value) not in (10, 12) or not value.isdigit():
        return None
    try:
        return datetime(
            2000 + int(value[0:2]),
            int(value[2:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[8:10]),
            int(value[10:12] or 0),
        )
    except ValueError:
        return None


def is_receipt(esm_class: int, tlvs: dict[int, bytes]) -> bool:
    kind = esm_class & 0x3C
    return (
        kind in (ESM_DELIVERY_RECEIPT, ESM_INTERMEDIATE_NOTIFICATION)
        or Tag.RECEIPTED_MESSAGE_ID in tlvs
    )


def read_receipt(
    carrier: str, short_message: bytes, tlvs: dict[int, bytes]
) -> DeliveryReceipt | None:
    """A receipt from its TLVs and its text, the TLVs winning; ``None`` if it names no id."""
    fields = parse_receipt_text(short_message.decode("latin-1"))
    message_id = fields.get("id", "")
    raw_id = tlvs.get(Tag.RECEIPTED_MESSAGE_ID)
    if raw_id:
        message_id = raw_id.rstrip(b"\0").decode("latin-1")
    if not message_id.strip():
        return None
    status = fields.get("stat", "").upper()
    state = _STAT_STATES.get(status, ReceiptState.ACCEPTED)
    from_tlv = _TLV_STATES.get(tlvs.get(Tag.MESSAGE_STATE, b""))
    if from_tlv is not None:
        status, state = from_tlv
    error_code: int | None = None
    err = fields.get("err", "")
    if err.isdigit():
        error_code = int(err)
    network_error = tlvs.get(Tag.NETWORK_ERROR_CODE)
    if network_error and len(network_error) == 3:
        error_code = int.from_bytes(network_error[1:], "big")
    return DeliveryReceipt(
        carrier=carrier,
        message_id=message_id,
        keys=receipt_keys(message_id),
        state=state,
        status=status or "UNKNOWN",
        error_code=error_code,
        submitted_at=_receipt_date(fields.get("submit date")),
        done_at=_receipt_date(fields.get("done date")),
    )


def decode_text(body: bytes, data_coding: int) -> str:
    """A best reading of an inbound text; the exact GSM 03.38 decoding is the encoding
    module's, which can work from :attr:`InboundMessage.body`."""
    if data_coding == 8:
        return body.decode("utf-16-be", errors="replace")
    if data_coding == 3:
        return body.decode("latin-1")
    return body.decode("ascii", errors="replace")


def read_inbound(
    carrier: str,
    source: str,
    destination: str,
    esm_class: int,
    data_coding: int,
    short_message: bytes,
    tlvs: dict[int, bytes],
) -> InboundMessage:
    body = short_message or tlvs.get(Tag.MESSAGE_PAYLOAD, b"")
    if esm_class & ESM_UDHI and body:
        body = body[1 + body[0] :]
    return InboundMessage(
        carrier=carrier,
        source=source,
        destination=destination,
        text=decode_text(body, data_coding),
        data_coding=data_coding,
        body=body,
    )


__all__ = [
    "decode_text",
    "is_receipt",
    "parse_receipt_text",
    "read_inbound",
    "read_receipt",
    "receipt_keys",
]
