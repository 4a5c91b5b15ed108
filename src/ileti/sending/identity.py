"""What makes two requests the same request, so that a repeat gets the first answer.

An ``Idempotency-Key`` names a request for 24 hours; without one, the request's own content
does for two minutes (a client retrying a request that timed out). Reusing a key with other
content is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ileti.validation import invalid

# Identical requests (same key, kind and content) within this window get the first answer.
REPEAT_WINDOW_MS = 120_000
# An Idempotency-Key holds this long.
IDEMPOTENCY_KEY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class RequestIdentity:
    """``fingerprint`` names the request (its key, else its content); ``request_hash`` is its
    content, so a key reused for something else is told apart; kept for ``keep_ms``."""

    fingerprint: str
    request_hash: str
    keep_ms: int

    @classmethod
    def of(
        cls, kind: str, content: Mapping[str, Any], idempotency_key: str | None
    ) -> RequestIdentity:
        """``kind``: what is asked (the API's path); ``content``: everything the request says
        but its credentials."""
        canonical = orjson.dumps(dict(content), option=orjson.OPT_SORT_KEYS)
        request_hash = hashlib.sha256(kind.encode() + b"\0" + canonical).hexdigest()
        if idempotency_key is None:
            return cls(request_hash, request_hash, REPEAT_WINDOW_MS)
        if not 1 <= len(idempotency_key) <= 255:
            raise invalid("Idempotency-Key", "must have 1 to 255 characters")
        fingerprint = hashlib.sha256(b"key\0" + idempotency_key.encode()).hexdigest()
        return cls(fingerprint, request_hash, IDEMPOTENCY_KEY_MS)
