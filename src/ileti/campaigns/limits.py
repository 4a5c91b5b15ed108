"""What a customer file may be, and the refusal of one that cannot be read."""

from __future__ import annotations

from dataclasses import dataclass

from ileti.config import Settings


class FileRefused(ValueError):
    """A file that cannot be read as a table; the message says why, in English, for the user."""


@dataclass(frozen=True)
class FileLimits:
    max_bytes: int = 50 * 1024 * 1024
    max_uncompressed: int = 500 * 1024 * 1024
    max_rows: int = 1_000_000
    max_columns: int = 200

    @classmethod
    def from_settings(cls, settings: Settings) -> FileLimits:
        """The limits an installation sets (``ILETI_CAMPAIGN_MAX_BYTES`` …)."""
        return cls(
            max_bytes=settings.campaign_max_bytes,
            max_uncompressed=settings.campaign_max_uncompressed_bytes,
            max_rows=settings.campaign_max_rows,
            max_columns=settings.campaign_max_columns,
        )


def megabytes(size: int) -> str:
    """A size as a limit is told: ``50 MB``, or in bytes below a megabyte."""
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / 1024 / 1024:g} MB"
