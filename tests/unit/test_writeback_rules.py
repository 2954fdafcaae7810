"""The pure parts of the write-back rules: marker replacement, notes, status and B2B plans."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from b2bsync.domain.fingerprint import content_hash
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.records import B2BInfo, InvoiceLink, InvoiceRole, OrderRecord
from b2bsync.domain.writeback_rules import WritebackRule
from b2bsync.sync.loopback.writeback import (
    B2B_EXTRA,
    B2B_PO,
    V2_NOTES,
    V2_STATUS,
    FieldChange,
    LiveOrder,
    money_text,
    plan_changes,
    render_note,
    replace_marker,
)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _record(order_type: OrderType = OrderType.INVOICE_PAYMENT, **changes: object) -> OrderRecord:
    base = OrderRecord(
        store="s",
        order_id=7,
        order_type=order_type,
        status_id=11,
        date_created=NOW,
        date_modified=NOW,
        currency="USD",
        b2b=B2BInfo(company_id=3, company_name="Acme", b2b_order_id=70, po_number="PO-1"),
        invoices=(
            InvoiceLink(
                invoice_id=1,
                invoice_number="INV-1001",
                role=InvoiceRole.PAID_BY_ORDER,
                amount=Decimal("250"),
                currency="USD",
            ),
            InvoiceLink(
                invoice_id=2,
                invoice_number="INV-1002",
                role=InvoiceRole.PAID_BY_ORDER,
                amount=Decimal("80"),
                currency="USD",
            ),
        ),
    )
    return base.model_copy(update=changes)


def test_the_invoice_payment_note_names_every_invoice_and_amount() -> None:
    rule = WritebackRule(order_type=OrderType.INVOICE_PAYMENT)
    assert render_note(rule, _record(), 1) == (
        "Invoice payment for INV-1001 ($250.00), INV-1002 ($80.00)"
    )


def test_money_text_uses_symbols_it_knows_and_codes_otherwise() -> None:
    assert money_text(Decimal("1234.5"), "USD") == "$1,234.50"
    assert money_text(Decimal("3"), "CHF") == "3.00 CHF"


def test_the_marker_line_is_replaced_not_appended() -> None:
    once = replace_marker("Call before delivery", "Invoice payment for INV-1")
    assert once == "[b2bsync] Invoice payment for INV-1\nCall before delivery"
    twice = replace_marker(once, "Invoice payment for INV-2")
    assert twice == "[b2bsync] Invoice payment for INV-2\nCall before delivery"
    assert replace_marker(twice, "Invoice payment for INV-2") == twice
    assert replace_marker("", "x") == "[b2bsync] x"


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80))
def test_replacing_the_marker_is_idempotent_and_keeps_the_content_hash(notes: str) -> None:
    first = replace_marker(notes, "note")
    assert replace_marker(first, "note") == first
    assert first.count("[b2bsync] note") == 1
    assert content_hash(_record(staff_notes=first)) == content_hash(
        _record(staff_notes=replace_marker(first, "another note"))
    )


def test_defaults_plan_notes_only_and_nothing_once_satisfied() -> None:
    rule = WritebackRule(order_type=OrderType.INVOICE_PAYMENT)
    live = LiveOrder(staff_notes="keep me", status_id=11, po_number="PO-1")
    changes = plan_changes(rule, _record(), 1, live)
    assert [change.target for change in changes] == [V2_NOTES]
    done = LiveOrder(staff_notes=changes[0].after, status_id=11, po_number="PO-1")
    assert plan_changes(rule, _record(), 1, done) == ()


def test_a_status_is_set_only_when_it_differs_and_the_order_is_open() -> None:
    rule = WritebackRule(order_type=OrderType.INVOICE_PAYMENT, notes=False, status_id=10)
    record = _record()
    assert plan_changes(rule, record, 1, LiveOrder("", 11)) == (FieldChange(V2_STATUS, "11", "10"),)
    assert plan_changes(rule, record, 1, LiveOrder("", 10)) == ()
    for closed in (0, 2, 4, 5, 6, 13):
        assert plan_changes(rule, record, 1, LiveOrder("", closed)) == ()


def test_online_orders_can_get_a_po_number_and_an_extra_field() -> None:
    rule = WritebackRule(
        order_type=OrderType.ONLINE_ORDER,
        notes=False,
        note_template="ERP order {external_order_id}",
        po_number_template="ERP-{order_id}",
        extra_field="Buyer Notes",
    )
    record = _record(OrderType.ONLINE_ORDER, external_order_id="SO-9", invoices=())
    live = LiveOrder("", 11, po_number="PO-1", extra_fields={"Cost Center": "A"})
    assert plan_changes(rule, record, 2, live) == (
        FieldChange(B2B_PO, "PO-1", "ERP-7"),
        FieldChange(B2B_EXTRA + "Buyer Notes", None, "ERP order SO-9"),
    )
    satisfied = LiveOrder("", 11, "ERP-7", {"Buyer Notes": "ERP order SO-9"})
    assert plan_changes(rule, record, 2, satisfied) == ()


def test_b2b_fields_are_left_alone_on_orders_without_a_b2b_record() -> None:
    rule = WritebackRule(
        order_type=OrderType.ONLINE_ORDER, notes=False, po_number_template="X", extra_field="F"
    )
    record = _record(OrderType.ONLINE_ORDER, b2b=None)
    assert plan_changes(rule, record, 1, LiveOrder("", 11)) == ()
