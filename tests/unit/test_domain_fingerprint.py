"""The content hash changes with what destinations see, and only with that."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from b2bsync.domain import OrderType
from b2bsync.domain.fingerprint import (
    WRITEBACK_MARKER,
    canonical_json,
    content_hash,
    strip_writeback_lines,
)
from b2bsync.domain.records import B2BInfo, InvoiceLink, InvoiceRole, LineItem, OrderRecord

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


def test_the_canonical_form_is_frozen_so_upgrades_re_deliver_nothing() -> None:
    # Hashes written by earlier releases: a ledger keeps them, and any other value for the same
    # record would make every stored order look changed and be delivered again.
    assert content_hash(record()) == (
        "8498859ca17ad515a8653d98c9c2377b8bfa8c574c058c7053390575d4602f0d"
    )
    rich = record(
        order_type=OrderType.INVOICE_PAYMENT,
        b2b=B2BInfo(
            company_id=7,
            company_name="Acmé",
            po_number="PO-1",
            extra_fields={"b": "2", "a": "1"},
            payment_id=9,
        ),
        invoices=(
            InvoiceLink(
                invoice_id=3,
                invoice_number="INV-3",
                role=InvoiceRole.PAID_BY_ORDER,
                amount=Decimal("5.50"),
                currency="USD",
                open_balance=Decimal("0"),
            ),
        ),
    )
    assert content_hash(rich) == (
        "d62dc2230a7426a4cf76a8f47e66cc13fbff1c7017564674b1466ad00e642258"
    )


def _stdlib_form(payload: dict[str, Any]) -> bytes:
    """The form every stored hash was made with, before orjson wrote it."""

    def canonical(value: Any) -> str:
        if isinstance(value, Decimal):
            return format(value.normalize(), "f")
        return str(value.isoformat())

    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=canonical
    ).encode()


_text = st.text(st.characters(codec="utf-8"), max_size=12)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | _text
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.datetimes(timezones=st.none() | st.just(UTC))
    | st.sampled_from(list(OrderType) + list(InvoiceRole))
)
_payloads = st.dictionaries(
    _text,
    st.recursive(
        _scalars,
        lambda inner: (
            st.lists(inner, max_size=4).map(tuple)
            | st.lists(inner, max_size=4)
            | st.dictionaries(_text, inner, max_size=4)
        ),
        max_leaves=20,
    ),
    max_size=8,
)


@given(_payloads)
def test_the_canonical_bytes_are_those_every_stored_hash_was_made_with(
    payload: dict[str, Any],
) -> None:
    # Control characters, non-ASCII keys, amounts of any scale, naive and aware dates, enum
    # members, integers past 64 bits: orjson must write exactly what json.dumps wrote.
    assert canonical_json(payload) == _stdlib_form(payload)
