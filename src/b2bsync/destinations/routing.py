"""Which orders a destination receives: pure rules on the order record."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from b2bsync.domain.delivery import DeliveryKind, delivery_kind
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.origin import OrderOrigin
from b2bsync.domain.records import OrderRecord

__all__ = [
    "DEFAULT_ORDER_TYPES",
    "DEFAULT_ORIGINS",
    "INCOMPLETE_STATUS",
    "Route",
    "destinations_for",
]

INCOMPLETE_STATUS = 0
"""BigCommerce's status 0: an abandoned checkout, not an order anyone booked."""

DEFAULT_ORDER_TYPES = frozenset({OrderType.ONLINE_ORDER, OrderType.INVOICE_PAYMENT})
"""Unclassified orders are delivered only to destinations that ask for them."""

DEFAULT_ORIGINS = frozenset({OrderOrigin.STORE, OrderOrigin.EXTERNAL})
"""Orders b2bsync pushed in from the ERP go nowhere unless a destination asks for them: the
ERP must not receive its own orders back as new sales."""


class Route(BaseModel):
    """A destination's routing rule; every given condition must hold.

    - `order_types`: the types it receives (default online orders and invoice payments;
      `None` means every type, unclassified included).
    - `kinds`: `order` and/or `payment` (default `None`: both).
    - `statuses`: the BigCommerce status ids it receives (default `None`: every status).
    - `exclude_statuses`: status ids it never receives. Defaults to `{0}` (Incomplete) when
      `statuses` is not given, else to nothing, so an explicit `statuses = [0]` means it.
    - `origins`: where its orders come from (default `store` and `external`: not the orders
      b2bsync itself pushed in from the ERP, `erp_push`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_types: frozenset[OrderType] | None = DEFAULT_ORDER_TYPES
    kinds: frozenset[DeliveryKind] | None = None
    statuses: frozenset[int] | None = None
    exclude_statuses: frozenset[int] = frozenset()
    origins: frozenset[OrderOrigin] = DEFAULT_ORIGINS

    @model_validator(mode="before")
    @classmethod
    def _default_exclusions(cls, data: Any) -> Any:
        if isinstance(data, dict) and "exclude_statuses" not in data:
            explicit = data.get("statuses") is not None
            return {**data, "exclude_statuses": frozenset() if explicit else {INCOMPLETE_STATUS}}
        return data

    def accepts(self, record: OrderRecord) -> bool:
        """Whether the destination receives this version of the order."""
        if self.order_types is not None and record.order_type not in self.order_types:
            return False
        if self.kinds is not None and delivery_kind(record.order_type) not in self.kinds:
            return False
        if self.statuses is not None and record.status_id not in self.statuses:
            return False
        if record.origin not in self.origins:
            return False
        return record.status_id not in self.exclude_statuses


def destinations_for(record: OrderRecord, routes: Iterable[tuple[str, Route]]) -> list[str]:
    """Names of the destinations (given as `(name, route)` in configuration order) that
    receive `record`: what the engine enqueues outbox rows for."""
    return [name for name, route in routes if route.accepts(record)]
