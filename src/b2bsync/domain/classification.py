"""Deciding whether an order is an online order or an invoice payment, from the signals
BigCommerce and B2B Edition give, which arrive at different times (or never)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from b2bsync.domain.order_type import MetafieldOrderType, OrderType


class SignalSource(StrEnum):
    """Where a classification came from, strongest first."""

    METAFIELD = "metafield"
    B2B_ORDER = "b2b_order"
    PAYMENT_PRODUCT = "payment_product"
    POLICY = "policy"


class UnclassifiedPolicy(StrEnum):
    """What to do with an order that has no signal when its classification deadline passes."""

    HOLD = "hold"
    """Keep it out of every destination and flag it for a person (the safe default)."""
    DELIVER_UNCLASSIFIED = "deliver_unclassified"
    """Deliver it as `unclassified` to destinations whose routing accepts that type."""
    ONLINE_ORDER = "online_order"
    """Treat it as an online order (only for stores that do not use the Invoice Portal)."""


@dataclass(frozen=True, slots=True)
class Signals:
    """What is known about an order so far; None means "not seen (yet)"."""

    metafield_value: str | None = None
    """Raw value of the `orderType` metafield, whatever its namespace."""
    b2b_is_invoice_order: bool | None = None
    """`isInvoiceOrder` of the B2B Edition order detail."""
    lines_are_payment_product: bool | None = None
    """True when every line is the Invoice Portal's payment product, False when none is;
    None when `/ip/config` was unreachable or the lines are mixed."""


@dataclass(frozen=True, slots=True)
class Classification:
    order_type: OrderType
    source: SignalSource
    reason: str


def _from_metafield(value: str) -> OrderType | None:
    normalised = " ".join(value.strip().lower().replace("_", " ").split())
    if normalised == MetafieldOrderType.INVOICE_PAYMENT:
        return OrderType.INVOICE_PAYMENT
    if normalised == MetafieldOrderType.ONLINE_ORDER:
        return OrderType.ONLINE_ORDER
    return None


def classify(signals: Signals) -> Classification | None:
    """The order's type from the strongest signal present, or None while there is none.

    An unexpected metafield value is not a signal: the next one decides, or the order waits.
    When a weaker signal contradicts the deciding one the reason says so, for a person to see.
    """
    decided: Classification | None = None
    metafield_type = (
        _from_metafield(signals.metafield_value) if signals.metafield_value is not None else None
    )
    if metafield_type is not None:
        decided = Classification(
            metafield_type,
            SignalSource.METAFIELD,
            f"orderType metafield is {signals.metafield_value!r}",
        )
    b2b_type = (
        None
        if signals.b2b_is_invoice_order is None
        else OrderType.INVOICE_PAYMENT
        if signals.b2b_is_invoice_order
        else OrderType.ONLINE_ORDER
    )
    product_type = (
        None
        if signals.lines_are_payment_product is None
        else OrderType.INVOICE_PAYMENT
        if signals.lines_are_payment_product
        else OrderType.ONLINE_ORDER
    )
    if decided is None and b2b_type is not None:
        decided = Classification(
            b2b_type,
            SignalSource.B2B_ORDER,
            f"B2B order isInvoiceOrder={int(b2b_type is OrderType.INVOICE_PAYMENT)}",
        )
    if decided is None and product_type is not None:
        decided = Classification(
            product_type,
            SignalSource.PAYMENT_PRODUCT,
            "its lines are the Invoice Portal payment product"
            if product_type is OrderType.INVOICE_PAYMENT
            else "none of its lines is the Invoice Portal payment product",
        )
    if decided is None:
        return None
    conflicts = [
        source
        for source, found in (
            (SignalSource.B2B_ORDER, b2b_type),
            (SignalSource.PAYMENT_PRODUCT, product_type),
        )
        if found is not None and found is not decided.order_type
    ]
    if conflicts:
        names = ", ".join(conflicts)
        return Classification(
            decided.order_type, decided.source, f"{decided.reason}; contradicted by {names}"
        )
    return decided


def classify_after_deadline(policy: UnclassifiedPolicy) -> Classification | None:
    """The policy's verdict for an order still without a signal at its deadline; None = hold."""
    if policy is UnclassifiedPolicy.HOLD:
        return None
    order_type = (
        OrderType.ONLINE_ORDER
        if policy is UnclassifiedPolicy.ONLINE_ORDER
        else OrderType.UNCLASSIFIED
    )
    return Classification(
        order_type, SignalSource.POLICY, f"no signal before the deadline; policy {policy}"
    )
