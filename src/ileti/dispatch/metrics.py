"""Prometheus metrics of dispatch and delivery."""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import Counter, Gauge

from ileti.domain.lifecycle import MessageStatus

DISPATCHED = Counter(
    "ileti_dispatch_messages", "Claimed messages by what became of them.", ["outcome"]
)
RECEIPTS = Counter("ileti_receipts", "Delivery receipts by how they matched.", ["outcome"])
INBOUND = Counter("ileti_inbound_messages", "Inbound (MO) messages.", ["action"])
# Messages on their way are counted in the database (by index: there are few of them); the
# final states only grow, and counting them there meant reading every message ever sent (70 ms
# a million on SQLite, on the event loop, every few seconds), so they are counted as they happen.
# Set by the worker alone; with ``ileti serve``'s API processes they are read through the API's
# /metrics (``multiprocess_mode`` says how to add them up across processes).
MESSAGES = Gauge(
    "ileti_messages",
    "Messages on their way (queued, sent), by state.",
    ["state"],
    multiprocess_mode="livemax",
)
FINISHED = Counter(
    "ileti_messages_finished", "Messages that reached a final state, by state.", ["state"]
)
QUEUE_DEPTH = Gauge(
    "ileti_queue_depth", "Messages waiting in the dispatch queue.", multiprocess_mode="livemax"
)


def count_finished(finished: Tally[MessageStatus]) -> None:
    """Count messages made final by a transaction that committed."""
    for state, count in finished.items():
        if count:
            FINISHED.labels(state.value).inc(count)
