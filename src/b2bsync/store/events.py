"""Names of the entries in an order's history (`order_events`)."""

from __future__ import annotations

from enum import StrEnum


class OrderEvent(StrEnum):
    SEEN = "seen"
    CLASSIFIED = "classified"
    VERSIONED = "versioned"
    HELD = "held"
    STATE_CHANGED = "state_changed"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    DEAD = "dead"
    SKIPPED = "skipped"
    REPLAYED = "replayed"
