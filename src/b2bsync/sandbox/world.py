"""The sandbox's in-memory world: one `StoreState` per store hash, a clock, and the queue of
things that happen later (the `orderType` metafield, the B2B order record, webhook events).

Routes mutate a `StoreState` through the family services; every mutation of an order goes
through `StoreState.touch_order` so `date_modified` and `store/order/updated` stay truthful.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from b2bsync.sandbox.config import SandboxConfig
from b2bsync.sandbox.models import (
    B2BOrder,
    CatalogProduct,
    Company,
    Customer,
    Hook,
    Invoice,
    Metafield,
    Order,
    Payment,
    Receipt,
)


def utcnow() -> datetime:
    """The sandbox's notion of now: aware UTC, truncated to whole seconds like BigCommerce."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(slots=True)
class WebhookEvent:
    """Something a store webhook scope would announce, waiting for the dispatcher."""

    scope: str
    data: dict[str, Any]
    created_at: datetime


@dataclass(order=True, slots=True)
class ScheduledAction:
    """Work the store does by itself later, e.g. B2B Edition writing the `orderType` metafield."""

    due_at: datetime
    seq: int
    kind: str = field(compare=False)
    payload: dict[str, Any] = field(compare=False)


@dataclass
class StoreState:
    """Everything one BigCommerce store (with B2B Edition) holds."""

    store_hash: str
    rng: random.Random
    customers: dict[int, Customer] = field(default_factory=dict)
    catalog: dict[int, CatalogProduct] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    metafields: dict[int, Metafield] = field(default_factory=dict)
    hooks: dict[int, Hook] = field(default_factory=dict)
    hook_emails: list[str] = field(default_factory=list)
    companies: dict[int, Company] = field(default_factory=dict)
    b2b_orders: dict[int, B2BOrder] = field(default_factory=dict)  # keyed by bc_order_id
    invoices: dict[int, Invoice] = field(default_factory=dict)
    payments: dict[int, Payment] = field(default_factory=dict)
    receipts: dict[int, Receipt] = field(default_factory=dict)
    order_status_labels: dict[int, str] = field(default_factory=dict)
    invoice_payment_product_id: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    scheduled: list[ScheduledAction] = field(default_factory=list)
    events: deque[WebhookEvent] = field(default_factory=deque)
    modified_order_ids: set[int] = field(default_factory=set, repr=False)
    """Orders touched since the V2 list index last caught up (see sandbox/orders.py)."""
    revision: int = field(default=0, repr=False)
    """Grows with every new entity and every event, so `--state` autosave notices changes."""
    _seq: itertools.count[int] = field(default_factory=itertools.count, repr=False)

    def next_id(self, kind: str, start: int = 100) -> int:
        """Allocate the next id of an entity kind (ids never repeat, even after deletes)."""
        value = self.counters.get(kind, start - 1) + 1
        self.counters[kind] = value
        self.revision += 1
        return value

    def emit(self, scope: str, data: dict[str, Any], now: datetime) -> None:
        """Queue a webhook event; the dispatcher delivers it to every matching active hook."""
        self.events.append(WebhookEvent(scope=scope, data=data, created_at=now))
        self.revision += 1

    def touch_order(self, order: Order, now: datetime) -> None:
        """Record that an order changed: bump `date_modified` and announce it."""
        order.date_modified = max(now, order.date_modified)
        self.modified_order_ids.add(order.id)
        self.emit("store/order/updated", {"type": "order", "id": order.id}, now)

    def schedule(self, kind: str, payload: dict[str, Any], due_at: datetime) -> None:
        """Run the handler of `kind` (`actions.ACTIONS`) with `payload` once `due_at` has passed."""
        heapq.heappush(self.scheduled, ScheduledAction(due_at, next(self._seq), kind, payload))

    def pop_due(self, now: datetime) -> ScheduledAction | None:
        """Take the earliest scheduled action if it is due by `now` (see `actions.run_due`)."""
        if self.scheduled and self.scheduled[0].due_at <= now:
            return heapq.heappop(self.scheduled)
        return None


@dataclass
class World:
    """All stores of one sandbox process plus its configuration."""

    config: SandboxConfig
    stores: dict[str, StoreState]
    clock: Callable[[], datetime] = utcnow

    def store(self, store_hash: str) -> StoreState | None:
        """The store with this hash, or None when the sandbox does not serve it."""
        return self.stores.get(store_hash)
