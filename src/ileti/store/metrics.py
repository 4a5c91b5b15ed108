"""Prometheus metrics of the store."""

from __future__ import annotations

from prometheus_client import Counter

# SQLite lets one connection write at a time, across every process sharing the file. When the
# turn is held most of the time, it is what limits sending: more API processes will not help.
WRITER_SECONDS = Counter(
    "ileti_sqlite_writer_seconds",
    "Time SQLite's one turn to write was waited for and held, by phase (waiting, holding), "
    "added up over the processes sharing the database.",
    ["phase"],
)
WRITER_WAITING = WRITER_SECONDS.labels("waiting")
WRITER_HOLDING = WRITER_SECONDS.labels("holding")
