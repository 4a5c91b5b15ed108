"""The order in which queued messages go out: lower goes first."""

from __future__ import annotations

OTP = 0
SINGLE = 1
BULK = 2
# Every entry's priority is at most this: a claim with no bound asks for it.
LOWEST = BULK
EVERY = (OTP, SINGLE, BULK)
