"""API keys' format: ``ilt_<10 hex>_<43 url-safe characters>``.

The first 14 characters are the public prefix that logs, ``ileti key list`` and the lookup use;
the secret part carries 256 bits, so a plain (unsalted) SHA-256 is enough as the stored form and
keeps the check cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from ipaddress import ip_network

KEY_PREFIX = "ilt_"
PREFIX_LENGTH = len(KEY_PREFIX) + 10
# Longer input cannot be a key; refuse it before hashing anything.
MAX_KEY_LENGTH = 64


def new_key() -> str:
    return f"{KEY_PREFIX}{secrets.token_hex(5)}_{secrets.token_urlsafe(32)}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(key: str, key_hash: str) -> bool:
    """Constant-time: the time taken says nothing about how much of a guess was right."""
    return hmac.compare_digest(hash_key(key), key_hash)


def prefix_of(key: str) -> str | None:
    """The lookup prefix of a well-formed key (or of a bare prefix), else None."""
    if len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.startswith(KEY_PREFIX):
        return None
    prefix = key[:PREFIX_LENGTH]
    if len(prefix) != PREFIX_LENGTH:
        return None
    if len(key) > PREFIX_LENGTH and key[PREFIX_LENGTH] != "_":
        return None
    return prefix


def shown(key: str | None) -> str | None:
    """What a log may say of a key: its public prefix, or only its length if it has none."""
    if not key:
        return None
    return prefix_of(key) or f"<{len(key)} characters>"


def normalise_networks(cidrs: list[str]) -> list[str]:
    """A key's allowlist in canonical form: a host address becomes a /32 or /128. Raises
    ValueError for what is no network."""
    return [str(ip_network(cidr.strip(), strict=False)) for cidr in cidrs]
