"""Prometheus metrics of the API client (registered in the default registry on import)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from b2bsync.bigcommerce._governor import Governor

__all__ = ["REQUESTS", "REQUEST_SECONDS", "record_governor"]

REQUESTS = Counter(
    "b2bsync_api_requests_total",
    "BigCommerce API requests by store, family, operation and status ('transport': no answer).",
    ["store", "family", "operation", "status"],
)
REQUEST_SECONDS = Histogram(
    "b2bsync_api_request_duration_seconds",
    "Time from sending a BigCommerce API request to having its whole body.",
    ["store", "family", "operation"],
)
RATE_QUOTA = Gauge(
    "b2bsync_api_rate_limit_quota", "Requests allowed per window.", ["store", "family"]
)
RATE_LEFT = Gauge(
    "b2bsync_api_rate_limit_left", "Requests left in the current window.", ["store", "family"]
)
RATE_RESET = Gauge(
    "b2bsync_api_rate_limit_reset_seconds",
    "Seconds until the current window resets.",
    ["store", "family"],
)
RATE_THROTTLED = Gauge(
    "b2bsync_api_rate_limit_throttled", "429s with a reset seen so far.", ["store", "family"]
)


def record_governor(governor: Governor) -> None:
    """Copy a governor's state into the gauges."""
    snapshot = governor.snapshot()
    labels = {"store": snapshot.store_hash, "family": snapshot.family.value}
    if snapshot.quota is not None:
        RATE_QUOTA.labels(**labels).set(snapshot.quota)
    if snapshot.left is not None:
        RATE_LEFT.labels(**labels).set(snapshot.left)
    if snapshot.reset_in_s is not None:
        RATE_RESET.labels(**labels).set(snapshot.reset_in_s)
    RATE_THROTTLED.labels(**labels).set(snapshot.throttled)
