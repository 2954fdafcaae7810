"""What the outbox hands a destination, and what a destination answers."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from b2bsync.domain.order_type import OrderType
from b2bsync.domain.records import OrderRecord


class DeliveryKind(StrEnum):
    """How a destination should book the record."""

    ORDER = "order"
    """A sales order (online order, or unclassified when the policy delivers those)."""
    PAYMENT = "payment"
    """An Invoice Portal payment: money received against invoices, never a sale."""


def delivery_kind(order_type: OrderType) -> DeliveryKind:
    """Invoice payments are delivered as payments, everything else as orders."""
    return DeliveryKind.PAYMENT if order_type is OrderType.INVOICE_PAYMENT else DeliveryKind.ORDER


def idempotency_key(store: str, order_id: int, version: int) -> str:
    """The key a destination deduplicates on: one per ledger version of an order."""
    return f"{store}:{order_id}:{version}"


class Delivery(BaseModel):
    """One ledger version of one order, on its way to one destination."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    idempotency_key: str
    store: str
    order_id: int
    version: int
    kind: DeliveryKind
    record: OrderRecord


class Outcome(StrEnum):
    DELIVERED = "delivered"
    """The destination has it (now or from an earlier attempt with the same key)."""
    RETRY = "retry"
    """A temporary failure (5xx, timeout, lock); try again later."""
    DEAD = "dead"
    """A permanent refusal (4xx, bad payload); retrying cannot help."""


class DeliveryResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    idempotency_key: str
    outcome: Outcome
    error: str | None = None
