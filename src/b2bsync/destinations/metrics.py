"""Prometheus metrics of the destinations (registered in the default registry on import)."""

from __future__ import annotations

from prometheus_client import Counter

__all__ = ["DELIVERIES"]

DELIVERIES = Counter(
    "b2bsync_destination_deliveries_total",
    "Deliveries answered by a destination, by store, destination name and outcome.",
    ["store", "destination", "outcome"],
)
