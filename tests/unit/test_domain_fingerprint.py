"""The content hash changes with what destinations see, and only with that."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from b2bsync.domain import OrderType
from b2bsync.domain.fingerprint import WRITEBACK_MARKER, content_hash, strip_writeback_lines
from b2bsync.domain.records import LineItem, OrderRecord

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def record(**changes: object) -> OrderRecord:
    base = OrderRecord(
        store="abc",
        order_id=101,
        order_type=OrderType.ONLINE_ORDER,
        status_id=11,
        date_created=T0,
        date_modified=T0,
        total_inc_tax=Decimal("10.0000"),
        staff_notes="Call before delivery",
        line_items=(
            LineItem(
                id=1,
                product_id=7,
                name="Widget",
                quantity=2,
                price_ex_tax=Decimal("5"),
                price_inc_tax=Decimal("5"),
                total_ex_tax=Decimal("10"),
                total_inc_tax=Decimal("10"),
            ),
        ),
    )
    return base.model_copy(update=changes)


def test_date_modified_alone_is_no_change() -> None:
    assert content_hash(record()) == content_hash(record(date_modified=T0 + timedelta(hours=1)))


def test_our_writeback_line_is_no_change() -> None:
    notes = f"{WRITEBACK_MARKER} Invoice payment for INV-1 ($5.00)\nCall before delivery"
    assert content_hash(record()) == content_hash(record(staff_notes=notes))


def test_real_changes_change_the_hash() -> None:
    base = content_hash(record())
    assert content_hash(record(status_id=2)) != base
    assert content_hash(record(staff_notes="Leave at the back door")) != base
    assert content_hash(record(order_type=OrderType.INVOICE_PAYMENT)) != base
    assert content_hash(record(total_inc_tax=Decimal("10.0100"))) != base


def test_money_scale_is_part_of_the_value_but_equal_amounts_hash_alike() -> None:
    # Decimal("10") and Decimal("10.0000") are the same amount and must not make a version.
    assert content_hash(record(total_inc_tax=Decimal("10"))) == content_hash(
        record(total_inc_tax=Decimal("10.0000"))
    )


def test_strip_keeps_human_lines_in_order() -> None:
    notes = f"first\n{WRITEBACK_MARKER} ours\nsecond"
    assert strip_writeback_lines(notes) == "first\nsecond"
