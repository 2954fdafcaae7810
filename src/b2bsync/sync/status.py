"""The read model: what `b2bsync status` and the dashboard show, read in one place.

Everything comes from the database the sync writes (ledger counts, watermarks, webhook health,
quarantine, alerts, the caches of invoices and payments), except the rate budget left, which
the process's rate governors know. Nothing here calls the store's API or writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from b2bsync.bigcommerce import GovernorRegistry, GovernorSnapshot, default_registry
from b2bsync.domain.rejects import RejectedStream
from b2bsync.store import (
    AttemptEntry,
    Database,
    FailingDestination,
    InvoiceRow,
    LedgerQuery,
    OrderDetail,
    OrderSummary,
    OutboxRow,
    Page,
    PaymentRow,
    SignalBundle,
)
from b2bsync.store.alerts import AlertEvent
from b2bsync.store.quarantine import QuarantinedRecord
from b2bsync.store.reports import (
    DailyCount,
    LedgerCounts,
    Watermark,
    ledger_counts,
    orders_per_day,
    watermarks,
)
from b2bsync.store.writebacks import WritebackEntry
from b2bsync.sync.poller import ORDERS_STREAM
from b2bsync.sync.webhooks.watchdog import WebhookHealth, webhook_health

__all__ = [
    "AlertsView",
    "FailuresView",
    "InvoicesView",
    "LedgerStatus",
    "OrderListView",
    "OrderView",
    "QuarantineView",
    "ReadModel",
]


@dataclass(frozen=True, slots=True)
class LedgerStatus:
    """The ledger's counts and every stream's watermark, of one store or of all."""

    store: str | None
    counts: LedgerCounts
    watermarks: list[Watermark]

    @property
    def orders_watermarks(self) -> list[Watermark]:
        """The watermarks of the live V2 scan (one per store)."""
        return [mark for mark in self.watermarks if mark.stream == ORDERS_STREAM]

    def as_json(self) -> dict[str, Any]:
        """The figures `status --json` and the dashboard's overview both print."""
        counts = self.counts
        return {
            "orders": counts.total,
            "by_type": counts.by_type,
            "by_state": counts.by_state,
            "watermarks": [mark.as_json() for mark in self.watermarks],
            "outbox": counts.outbox,
            "outbox_depth": counts.outbox_depth,
            "dead_letters": counts.dead_letters,
        }


@dataclass(frozen=True, slots=True)
class QuarantineView:
    """Malformed records set aside: how many per stream, and the most recently seen."""

    counts: dict[RejectedStream, int]
    newest: list[QuarantinedRecord]

    @property
    def total(self) -> int:
        """Records in quarantine, over every stream."""
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class AlertsView:
    """The conditions firing now and the newest firings."""

    active: list[dict[str, Any]]
    events: list[AlertEvent]


@dataclass(frozen=True, slots=True)
class OrderListView:
    """One page of the order list and the names of the companies it mentions."""

    page: Page[OrderSummary]
    company_names: dict[tuple[str, int], str]
    """By (store, company id)."""


@dataclass(frozen=True, slots=True)
class OrderView:
    """One order with each delivery's attempts, its write-backs and its signals."""

    detail: OrderDetail
    attempts: dict[int, list[AttemptEntry]]
    """By outbox row id."""
    writebacks: list[WritebackEntry]
    signals: SignalBundle


@dataclass(frozen=True, slots=True)
class InvoicesView:
    """A page of a store's cached invoices and, paged on its own, one of its payments."""

    invoices: Page[InvoiceRow]
    payments: Page[PaymentRow]
    company_names: dict[int, str]
    """Of the invoices' companies, by id."""


@dataclass(frozen=True, slots=True)
class FailuresView:
    """Dead letters, destinations whose deliveries fail, and the quarantine."""

    dead_letters: list[OutboxRow]
    failing: list[FailingDestination]
    quarantine: QuarantineView


class ReadModel:
    """Reads for status screens: the database `db` and the rate governors of this process."""

    def __init__(self, db: Database, governors: GovernorRegistry = default_registry) -> None:
        self.db = db
        self.governors = governors

    async def stores(self, now: datetime) -> list[str]:
        """Stores the ledger has synced (they have a watermark), by hash."""
        return sorted({mark.store for mark in await watermarks(self.db, None, now)})

    async def ledger(self, store: str | None, now: datetime) -> LedgerStatus:
        """Counts and watermarks (lag measured at `now`) of `store`, or of every store."""
        counts = await ledger_counts(self.db, store)
        marks = await watermarks(self.db, store, now)
        return LedgerStatus(store, counts, marks)

    async def webhooks(self, store: str) -> WebhookHealth:
        """What the database knows of the store's webhooks."""
        return await webhook_health(self.db, store)

    async def quarantine(self, store: str | None, limit: int) -> QuarantineView:
        """Quarantine counts and the `limit` most recently seen records."""
        async with self.db.transaction(readonly=True) as tx:
            newest = await tx.quarantine.records(store, limit=limit)
            counts = await tx.quarantine.counts(store)
        return QuarantineView(counts, newest)

    async def orders_per_day(self, store: str | None, since: datetime) -> list[DailyCount]:
        """Orders and their totals per UTC day, type and currency, from `since`."""
        return await orders_per_day(self.db, store, since)

    def rate_limits(self, store: str | None) -> list[GovernorSnapshot]:
        """What each rate governor of `store` (every store when None) knows of its window."""
        return [
            snapshot
            for snapshot in self.governors.snapshots()
            if store is None or snapshot.store_hash == store
        ]

    async def alerts(self, store: str | None, limit: int) -> AlertsView:
        """The conditions firing now and the `limit` newest firings."""
        async with self.db.transaction(readonly=True) as tx:
            active = await tx.alerts.active(store)
            events = await tx.alerts.events(store, limit=limit)
        return AlertsView(active, events)

    async def orders(self, query: LedgerQuery, page: int, page_size: int) -> OrderListView:
        """One page of the order list, newest first."""
        async with self.db.transaction(readonly=True) as tx:
            found = await tx.ledger.list_orders(query, page=page, page_size=page_size)
            names: dict[tuple[str, int], str] = {}
            for store in {item.store for item in found.items}:
                ids = {i.company_id for i in found.items if i.store == store and i.company_id}
                names |= {
                    (store, company_id): name
                    for company_id, name in (await tx.signals.company_names(store, ids)).items()
                }
        return OrderListView(found, names)

    async def order(self, store: str, order_id: int) -> OrderView | None:
        """One order with what the ledger, outbox, write-back log and caches hold of it."""
        async with self.db.transaction(readonly=True) as tx:
            detail = await tx.ledger.get_order(store, order_id)
            if detail is None:
                return None
            attempts = {row.id: await tx.outbox.attempts(row.id) for row in detail.outbox}
            writes = await tx.writebacks.for_order(store, order_id)
            bundle = (await tx.signals.bundles(store, [order_id]))[order_id]
        return OrderView(detail, attempts, writes, bundle)

    async def invoices(
        self, store: str, page: int, payments_page: int, page_size: int
    ) -> InvoicesView:
        """One page of the store's invoices (by number) and one of its payments."""
        async with self.db.transaction(readonly=True) as tx:
            invoices = await tx.signals.list_invoices(store, page=page, page_size=page_size)
            payments = await tx.signals.list_payments(
                store, page=payments_page, page_size=page_size
            )
            names = await tx.signals.company_names(
                store, {i.company_id for i in invoices.items if i.company_id}
            )
        return InvoicesView(invoices, payments, names)

    async def failures(self, store: str | None, limit: int) -> FailuresView:
        """Dead letters (oldest first), failing destinations and the quarantine (most recently
        seen first), at most `limit` of each list."""
        async with self.db.transaction(readonly=True) as tx:
            dead = await tx.outbox.dead_letters(store=store, limit=limit)
            failing = await tx.outbox.failing_destinations(store)
            quarantined = await tx.quarantine.records(store, limit=limit)
            counts = await tx.quarantine.counts(store)
        return FailuresView(dead, failing, QuarantineView(counts, quarantined))
