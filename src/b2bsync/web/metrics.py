"""Gauges read from the ledger when `/metrics` is scraped (the database is the truth, whichever
process wrote it)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import Gauge

from b2bsync.domain.rejects import RejectedStream

__all__ = ["QUARANTINED", "set_quarantined"]

QUARANTINED = Gauge(
    "b2bsync_quarantined_records",
    "Malformed records an API returned, set aside (quarantined) until a clean read",
    ["store", "stream"],
)


def set_quarantined(counts: Mapping[tuple[str, RejectedStream], int]) -> None:
    """Replace the gauge's samples with `counts` (a stream emptied since drops to absent)."""
    QUARANTINED.clear()
    for (store, stream), count in counts.items():
        QUARANTINED.labels(store=store, stream=str(stream)).set(count)
