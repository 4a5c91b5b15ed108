"""Prometheus metrics of the carrier layer."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

BINDS_UP = Gauge(
    "ileti_carrier_binds_up",
    "SMPP binds currently bound.",
    ["carrier"],
    multiprocess_mode="livesum",
)
BIND_FAILURES = Counter(
    "ileti_carrier_bind_failures",
    "Failed connects and refused binds, by reason.",
    ["carrier", "reason"],
)
SUBMITS = Counter("ileti_carrier_submits", "Submitted parts by outcome.", ["carrier", "outcome"])
RECEIPTS = Counter("ileti_carrier_receipts", "Delivery receipts by state.", ["carrier", "state"])
INBOUND = Counter("ileti_carrier_inbound", "Inbound (MO) messages received.", ["carrier"])
MALFORMED = Counter(
    "ileti_carrier_malformed_pdus", "PDUs from the operator that could not be read.", ["carrier"]
)
WINDOW_IN_USE = Gauge(
    "ileti_carrier_window_in_use",
    "Outstanding submit_sm per bind.",
    ["carrier", "bind"],
    multiprocess_mode="livesum",
)
