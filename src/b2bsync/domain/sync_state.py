"""Where an order stands in b2bsync's pipeline."""

from enum import StrEnum


class SyncState(StrEnum):
    PENDING_CLASSIFICATION = "pending_classification"
    """No signal yet says what kind of order this is; re-checked with backoff."""
    HELD = "held"
    """The classification deadline passed and the policy holds it for a person."""
    READY = "ready"
    """Classified and versioned; outbox rows wait for delivery."""
    DELIVERED = "delivered"
    """Every routed destination confirmed the current version."""
    FAILED = "failed"
    """A delivery failed and will be retried."""
    DEAD = "dead"
    """A delivery gave up after its attempts; waits for replay or skip."""
    SKIPPED = "skipped"
    """Not delivered on purpose (status 0 Incomplete, no route, or skipped by a person)."""
