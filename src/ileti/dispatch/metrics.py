"""Prometheus metrics of dispatch and delivery."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

DISPATCHED = Counter(
    "ileti_dispatch_messages", "Claimed messages by what became of them.", ["outcome"]
)
RECEIPTS = Counter("ileti_receipts", "Delivery receipts by how they matched.", ["outcome"])
INBOUND = Counter("ileti_inbound_messages", "Inbound (MO) messages.", ["action"])
MESSAGES = Gauge("ileti_messages", "Messages by state.", ["state"])
QUEUE_DEPTH = Gauge("ileti_queue_depth", "Messages waiting in the dispatch queue.")
