"""The installation's secret key, kept outside the database: it seals the webhook secrets kept
in the database and keys the OTP code hashes, so that a copy of the database alone recovers
neither.

The key is ``ILETI_SECRET_KEY`` when set (the same value for every process that shares a
database), else a key file made once in the data directory, readable by its owner only. It is
read, or made, the first time something is sealed, opened or derived. Each use gets a key of its
own derived from it (HMAC-SHA256 of the use's name), and a sealed secret is a Fernet token
(AES-128-CBC with HMAC-SHA256): a secret sealed under another key does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path
from threading import Lock

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.engine import make_url

from ileti.config import Settings
from ileti.store.datadir import data_directory, keep_private

KEY_FILE = "secret.key"
MIN_KEY_LENGTH = 32
# What marks a sealed value; anything else is a value written before secrets were sealed.
SEALED = "sealed:"
# The uses of the key; each derives a key of its own.
WEBHOOK_SECRETS = "ileti webhook secrets"
OTP_CODES = "ileti otp code hashes"
# An erased phone number is kept as a keyed hash of it (``compliance.privacy``).
ERASED_NUMBERS = "ileti erased numbers"


class SecretKeyError(ValueError):
    """The installation's key is unusable, or a sealed value does not open with it."""


class Keyring:
    """The installation's key and what is made from it."""

    def __init__(
        self,
        secret_key: str | None = None,
        key_file: Path | None = None,
        *,
        shared_database: bool = False,
    ) -> None:
        if secret_key is None and key_file is None:
            raise ValueError("a keyring needs a key or a key file")
        if secret_key is not None:
            _check(secret_key, "ILETI_SECRET_KEY")
        self._given = secret_key
        self.key_file = None if secret_key is not None else key_file
        self._shared_database = shared_database
        self._key: bytes | None = None
        self._fernet: Fernet | None = None
        self._opened: dict[str, str] = {}
        self._lock = Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        configured = settings.secret_key
        return cls(
            configured.get_secret_value() if configured is not None else None,
            data_directory(settings.database_url, settings.data_dir) / KEY_FILE,
            shared_database=make_url(settings.database_url).get_backend_name() != "sqlite",
        )

    @property
    def warning(self) -> str | None:
        """What to tell the operator at start: a database other processes may share, with a
        key of this machine's own."""
        if self.key_file is None or not self._shared_database:
            return None
        return (
            "ILETI_SECRET_KEY is not set: this process keeps its key in "
            f"{self.key_file}. Every process on this database needs the same key to verify "
            "OTP codes and sign webhooks: set ILETI_SECRET_KEY to the same value for each "
            "(the content of that file, for instance)."
        )

    def derive(self, use: str) -> bytes:
        """A 32-byte key for one use, the same in every process with the same secret key."""
        return hmac.new(self._secret(), use.encode(), hashlib.sha256).digest()

    def seal(self, plain: str) -> str:
        """``plain`` encrypted and authenticated, for keeping in the database."""
        return SEALED + self._sealer().encrypt(plain.encode()).decode()

    def open(self, stored: str) -> str:
        """The plain text of a sealed value; a value that was never sealed, as it is."""
        if not stored.startswith(SEALED):
            return stored
        opened = self._opened.get(stored)
        if opened is None:
            try:
                opened = self._sealer().decrypt(stored.removeprefix(SEALED)).decode()
            except InvalidToken:
                raise SecretKeyError(
                    "a sealed secret does not open with this installation's secret key"
                    " (ILETI_SECRET_KEY, or the key file, differs from the one that sealed it)"
                ) from None
            self._opened[stored] = opened
        return opened

    def _sealer(self) -> Fernet:
        if self._fernet is None:
            self._fernet = Fernet(base64.urlsafe_b64encode(self.derive(WEBHOOK_SECRETS)))
        return self._fernet

    def _secret(self) -> bytes:
        with self._lock:
            if self._key is None:
                if self._given is not None:
                    text = self._given
                else:
                    assert self.key_file is not None
                    text = keep_private(self.key_file, secrets.token_urlsafe(32))
                    _check(text, str(self.key_file))
                self._key = text.encode()
            return self._key


def _check(key: str, source: str) -> None:
    if len(key) < MIN_KEY_LENGTH:
        raise SecretKeyError(
            f"the secret key in {source} has fewer than {MIN_KEY_LENGTH} characters"
        )
