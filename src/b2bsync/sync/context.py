"""What every sync service needs, in one place, so the services are plain async functions
(`poll_store`, `recheck_pending`, `deliver_due`, `run_once`) a worker can also run as tasks."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from b2bsync.bigcommerce import BigCommerceClient
from b2bsync.config import SyncOptions
from b2bsync.destinations.registry import ConfiguredDestination
from b2bsync.domain.classification import UnclassifiedPolicy
from b2bsync.domain.retry_schedule import RetrySchedule
from b2bsync.domain.writeback_rules import WritebackRule
from b2bsync.store.database import Database
from b2bsync.sync.calls import CallCounter

if TYPE_CHECKING:
    from b2bsync.sync.alerts import AlertService

__all__ = ["DEFAULT_RETRY", "SyncContext", "SyncSettings", "utc_now"]


_DOCUMENTED = SyncOptions()
"""The `[sync]` defaults, stated once in the configuration; the engine's follow them."""

DEFAULT_RETRY = RetrySchedule(max_attempts=_DOCUMENTED.max_delivery_attempts)
"""Outbox retries: exponential from 5 s, capped at 1 h, dead after the 8th failed attempt."""


def utc_now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SyncSettings:
    """Knobs of the sync services; the defaults are the documented ones."""

    overlap: timedelta = timedelta(seconds=_DOCUMENTED.overlap_s)
    """How far below its watermark each incremental scan starts again."""
    page_size: int = _DOCUMENTED.page_size
    b2b_page_size: int = 200
    start: datetime | None = None
    """Where the first scan (the backfill) starts; None means `backfill` before now."""
    backfill: timedelta = timedelta(days=_DOCUMENTED.backfill_days)
    classification_deadline: timedelta = timedelta(seconds=_DOCUMENTED.classification_deadline_s)
    policy: UnclassifiedPolicy = _DOCUMENTED.unclassified_policy
    recheck_base: timedelta = timedelta(seconds=30)
    recheck_cap: timedelta = timedelta(minutes=10)
    recheck_batch: int = 100
    """Pending orders looked at per `recheck_pending` call (each may cost one API call)."""
    retry: RetrySchedule = DEFAULT_RETRY
    delivery_batch: int = 100
    lease: timedelta = timedelta(seconds=_DOCUMENTED.delivery_lease_s)
    """How long a claimed outbox row stays ours before another worker may take it."""

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= 250:
            raise ValueError("page_size must be between 1 and 250 (V2's maximum)")
        if not 1 <= self.b2b_page_size <= 200:
            raise ValueError("b2b_page_size must be between 1 and 200")
        if self.overlap < timedelta(0):
            raise ValueError("overlap cannot be negative")
        if self.start is not None and self.start.utcoffset() is None:
            raise ValueError("start must be an aware datetime (UTC)")

    @classmethod
    def from_options(cls, options: SyncOptions) -> SyncSettings:
        """The engine's settings from the `[sync]` options (the rest at their defaults)."""
        return cls(
            overlap=timedelta(seconds=options.overlap_s),
            page_size=options.page_size,
            start=options.start,
            backfill=timedelta(days=options.backfill_days),
            classification_deadline=timedelta(seconds=options.classification_deadline_s),
            policy=options.unclassified_policy,
            retry=RetrySchedule(max_attempts=options.max_delivery_attempts),
            lease=timedelta(seconds=options.delivery_lease_s),
        )

    def first_start(self, now: datetime) -> datetime:
        """Lower bound of the very first scan of a stream."""
        return self.start if self.start is not None else now - self.backfill


@dataclass(slots=True)
class SyncContext:
    """One store's sync: its client, database, destinations and settings."""

    store: str
    client: BigCommerceClient
    db: Database
    destinations: tuple[ConfiguredDestination, ...] = ()
    """Where versions go, each with its routing rule (`build_destinations` makes them)."""
    settings: SyncSettings = SyncSettings()
    clock: Callable[[], datetime] = utc_now
    calls: CallCounter = field(default_factory=CallCounter)
    """Give the same counter to the client's `httpx2.AsyncClient` for calls-per-order figures."""
    rng: random.Random = field(default_factory=random.Random)
    """Jitter of retry and re-check delays."""
    writeback_rules: tuple[WritebackRule, ...] = ()
    """Applied by `run_once` after delivery; empty means no write-back (it is opt-in)."""
    channels: frozenset[int] | None = None
    """Storefront channels whose orders are delivered; the others are kept in the ledger as
    `skipped` (None: every channel)."""
    on_page: Callable[[str, int], None] | None = None
    """Told after each committed page of a V2 scan: the stream and the orders it read first
    (a progress bar's feed)."""
    alerts: AlertService | None = None
    """Evaluated by `run_once` after every round (None: no `[[alerts]]` configured)."""
