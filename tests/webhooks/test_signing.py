"""Signatures checked the way a receiver checks them: with the standardwebhooks package and a
plain HMAC, never with the code that made them."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from ileti.domain import signing
from ileti.domain.webhooks import WebhookConfig

BODY = b'{"event_id":"evt_1","event_type":"sms.delivered","data":{"sms_id":7}}'


def ours(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_both_signatures_verify_independently() -> None:
    secret = signing.new_secret()
    # The system's time: standardwebhooks refuses a timestamp far from its own clock.
    now = int(time.time())
    headers = signing.headers([secret], "evt_1", now, BODY)
    assert Webhook(secret).verify(BODY, headers)["data"]["sms_id"] == 7
    assert headers["X-TurkeySMS-Signature"] == ours(secret, BODY)
    assert headers["X-TurkeySMS-Timestamp"] == headers["webhook-timestamp"] == str(now)
    assert headers["webhook-id"] == "evt_1"


def test_a_changed_body_or_another_secret_fails() -> None:
    secret = signing.new_secret()
    headers = signing.headers([secret], "evt_1", int(time.time()), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(BODY, headers)


def test_both_secrets_sign_during_the_grace_period_only() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    config = WebhookConfig(url="https://example.com/", secret=old)
    rotated = config.rotated(new, now_ms=1_000_000, grace_seconds=60)
    during = rotated.signing_secrets(1_000_000 + 59_000)
    assert during == [new, old]
    headers = signing.headers(during, "evt_1", int(time.time()), BODY)
    for secret in (old, new):
        Webhook(secret).verify(BODY, headers)
        assert ours(secret, BODY) in headers["X-TurkeySMS-Signature"].split(", ")
    assert rotated.signing_secrets(1_000_000 + 60_000) == [new]


def test_secrets_are_checked() -> None:
    assert signing.check_secret(signing.new_secret())
    for bad in ("plain", "whsec_not base64!", "whsec_" + "QUFB" * 2):
        with pytest.raises(ValueError):
            signing.check_secret(bad)
