"""Classification: strongest signal wins, unknown values wait, conflicts are visible."""

from __future__ import annotations

import pytest

from b2bsync.domain import OrderType
from b2bsync.domain.classification import (
    Signals,
    SignalSource,
    UnclassifiedPolicy,
    classify,
    classify_after_deadline,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("invoice payment", OrderType.INVOICE_PAYMENT),
        ("online order", OrderType.ONLINE_ORDER),
        ("  Invoice Payment ", OrderType.INVOICE_PAYMENT),
        ("invoice_payment", OrderType.INVOICE_PAYMENT),
    ],
)
def test_metafield_decides(value: str, expected: OrderType) -> None:
    result = classify(Signals(metafield_value=value))
    assert result is not None
    assert (result.order_type, result.source) == (expected, SignalSource.METAFIELD)


def test_no_signal_means_wait() -> None:
    assert classify(Signals()) is None


def test_unexpected_metafield_value_is_no_signal() -> None:
    assert classify(Signals(metafield_value="quote")) is None
    fallback = classify(Signals(metafield_value="quote", b2b_is_invoice_order=True))
    assert fallback is not None
    assert (fallback.order_type, fallback.source) == (
        OrderType.INVOICE_PAYMENT,
        SignalSource.B2B_ORDER,
    )


def test_b2b_then_payment_product_in_that_order() -> None:
    by_b2b = classify(Signals(b2b_is_invoice_order=False, lines_are_payment_product=True))
    assert by_b2b is not None
    assert by_b2b.order_type is OrderType.ONLINE_ORDER
    assert "contradicted by payment_product" in by_b2b.reason
    by_product = classify(Signals(lines_are_payment_product=True))
    assert by_product is not None
    assert (by_product.order_type, by_product.source) == (
        OrderType.INVOICE_PAYMENT,
        SignalSource.PAYMENT_PRODUCT,
    )


def test_conflict_with_metafield_is_reported_not_hidden() -> None:
    result = classify(Signals(metafield_value="online order", b2b_is_invoice_order=True))
    assert result is not None
    assert result.order_type is OrderType.ONLINE_ORDER
    assert result.reason.endswith("contradicted by b2b_order")


def test_deadline_policies() -> None:
    assert classify_after_deadline(UnclassifiedPolicy.HOLD) is None
    unclassified = classify_after_deadline(UnclassifiedPolicy.DELIVER_UNCLASSIFIED)
    assert unclassified is not None
    assert unclassified.order_type is OrderType.UNCLASSIFIED
    online = classify_after_deadline(UnclassifiedPolicy.ONLINE_ORDER)
    assert online is not None
    assert online.order_type is OrderType.ONLINE_ORDER
    assert online.source is SignalSource.POLICY
