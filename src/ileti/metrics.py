"""Prometheus metrics of the API, served at ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "ileti_http_requests",
    "API requests by endpoint and result code.",
    ["endpoint", "code"],
)
HTTP_LATENCY = Histogram(
    "ileti_http_request_seconds",
    "API request latency by endpoint.",
    ["endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
OTP_REFUSED = Counter(
    "ileti_otp_refused",
    "OTP requests refused by the abuse limits, by limit (number or country).",
    ["limit"],
)
HTTP_ABANDONED = Counter(
    "ileti_http_abandoned",
    "API requests whose body never came whole, by endpoint and reason: client_closed (the "
    "client hung up) or stalled (nothing came for ILETI_STALL_SECONDS; answered 408). Not "
    "errors of the gateway, so not in ileti_http_requests.",
    ["endpoint", "reason"],
)
HTTP_REFUSED = Counter(
    "ileti_http_refused",
    "Connections and requests refused before any endpoint saw them, by reason: header_too_large "
    "(431), head_stalled (408), too_many_connections (503).",
    ["reason"],
)
MESSAGES_CANCELLED = Counter(
    "ileti_messages_cancelled",
    "Messages cancelled by their customer before an operator had them (refunded).",
)
