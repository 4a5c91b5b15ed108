"""Freed memory given back to the system once a file has been read.

Reading a file of a million rows on a thread makes and frees hundreds of MB of small objects
and buffers there; glibc keeps the freed pages of that thread's arena for its next requests, so
the process stays that much larger for the rest of the campaign (35 MB of the 1,000,000-row
start of ``bench/campaign.py``). ``malloc_trim`` gives them back; off glibc nothing is done.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def give_back() -> None:
    """Return the allocator's free pages to the system."""
    if _TRIM is not None:
        _TRIM(0)
