"""Structured JSON logs. Keys, phone numbers and message bodies never appear in full."""

from __future__ import annotations

import logging
import sys

import orjson
import structlog


def configure(level: str = "INFO") -> None:
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=numeric)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.BytesLoggerFactory(sys.stderr.buffer),
        cache_logger_on_first_use=True,
    )


def mask_key(key: str | None) -> str | None:
    """What a log may say of a key: its public prefix, or only its length if it has none."""
    if not key:
        return None
    from ileti.store.keys import prefix_of

    return prefix_of(key) or f"<{len(key)} characters>"


def mask_number(number: str) -> str:
    """905321234567 → 9053212***67: enough to tell numbers apart in a log, not to dial one."""
    if len(number) <= 5:
        return "*" * len(number)
    return number[:-5] + "***" + number[-2:]
