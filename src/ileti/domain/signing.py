"""Signatures a receiver checks: ours (``X-TurkeySMS-Signature``) and Standard Webhooks'.

A secret looks like ``whsec_<base64>``. Our signature is the HMAC-SHA256 of the raw body keyed
with the secret exactly as shown; the Standard Webhooks one is keyed with the decoded bytes and
covers ``id.timestamp.body``. While a rotated secret's grace period lasts, each header carries
one signature per secret, so a receiver holding either secret accepts the event.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def check_secret(secret: str) -> str:
    """The secret if it is well formed; raises ValueError otherwise."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {SECRET_PREFIX}")
    raw = _secret_bytes(secret)
    if not 24 <= len(raw) <= 64:
        raise ValueError("a webhook secret holds 24 to 64 bytes (base64 after whsec_)")
    return secret


def _secret_bytes(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is base64 after whsec_") from None


def turkeysms_signature(secrets_: list[str], body: bytes) -> str:
    return ", ".join(
        "sha256=" + hmac.new(s.encode(), body, hashlib.sha256).hexdigest() for s in secrets_
    )


def standard_signature(secrets_: list[str], event_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{event_id}.{timestamp}.".encode() + body
    digests = (hmac.new(_secret_bytes(s), signed, hashlib.sha256).digest() for s in secrets_)
    return " ".join("v1," + base64.b64encode(d).decode() for d in digests)


def headers(secrets_: list[str], event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header a delivery carries besides the content type."""
    stamp = str(timestamp)
    return {
        "X-TurkeySMS-Signature": turkeysms_signature(secrets_, body),
        "X-TurkeySMS-Timestamp": stamp,
        "webhook-id": event_id,
        "webhook-timestamp": stamp,
        "webhook-signature": standard_signature(secrets_, event_id, timestamp, body),
    }
