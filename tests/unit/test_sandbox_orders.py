"""Order services, V2 rendering helpers and the list index, without HTTP."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from b2bsync.sandbox.b2b.companies import create_company
from b2bsync.sandbox.config import DelayRange, SandboxConfig
from b2bsync.sandbox.errors import V2Error
from b2bsync.sandbox.models import Address, Customer
from b2bsync.sandbox.orders import (
    LineSpec,
    OrderIndex,
    archive_order,
    create_shipment,
    delete_shipment,
    place_order,
    total_ex_tax,
    total_inc_tax,
    update_order,
)
from b2bsync.sandbox.render_v2 import money, rfc2822
from b2bsync.sandbox.routes.v2_orders import parse_date
from b2bsync.sandbox.world import StoreState

NOW = datetime(2026, 5, 4, 10, 30, tzinfo=UTC)
CONFIG = SandboxConfig(
    metafield_delay=DelayRange(5.0, 5.0), b2b_record_delay=DelayRange(2.0, 2.0), store_hash="s"
)
ADDRESS = Address(
    "Jane", "Doe", "", "1 Main St", "", "Austin", "Texas", "78751", "United States", "US", "", "j@x"
)
MUG = LineSpec("Mug", 3, Decimal("45"), Decimal("50"))
EBOOK = LineSpec("E-book", 1, Decimal("10"), Decimal("10.80"), type="digital")


def store() -> StoreState:
    state = StoreState(store_hash="s", rng=random.Random(1))
    state.customers[1] = Customer(1, "Buyer", "One", "b@acme.example", company_id=1001)
    state.customers[2] = Customer(2, "Retail", "Two", "r@example.com")
    return state


def scopes(state: StoreState) -> list[str]:
    found = [event.scope for event in state.events]
    state.events.clear()
    return found


def test_place_order_totals_address_and_events() -> None:
    state = store()
    order = place_order(
        state,
        customer_id=2,
        billing_address=ADDRESS,
        lines=[MUG, EBOOK],
        now=NOW,
        shipping_cost_ex_tax=Decimal("10"),
        shipping_cost_inc_tax=Decimal("10.83"),
        discount_amount=Decimal("5"),
        config=CONFIG,
    )
    assert total_ex_tax(order) == Decimal("150")
    assert total_inc_tax(order) == Decimal("166.63")
    assert len(order.shipping_addresses) == 1
    mug, ebook = order.products
    assert mug.order_address_id == order.shipping_addresses[0].id
    assert ebook.order_address_id == 0
    assert len(order.cart_id) == 36
    assert scopes(state) == ["store/order/created", "store/order/statusUpdated"]
    kinds = sorted(action.kind for action in state.scheduled)
    assert kinds == ["metafield.order_type"]  # a retail customer: no B2B record
    assert state.scheduled[0].due_at == NOW + timedelta(seconds=5)


def test_company_buyer_order_schedules_b2b_record_with_po_number() -> None:
    state = store()
    order = place_order(
        state,
        customer_id=1,
        billing_address=ADDRESS,
        lines=[EBOOK],
        now=NOW,
        kind="invoice payment",
        invoice_ids=[7, 8],
        po_number="PO-1",
        config=CONFIG,
    )
    assert order.shipping_addresses == []
    attach = next(a for a in state.scheduled if a.kind == "b2b.attach_order")
    assert attach.payload == {
        "order_id": order.id,
        "is_invoice_order": True,
        "invoice_id": 7,
        "po_number": "PO-1",
    }
    assert attach.due_at == NOW + timedelta(seconds=2)
    assert order.truth_invoice_ids == [7, 8]


def test_incomplete_order_announces_only_creation() -> None:
    state = store()
    place_order(state, customer_id=0, billing_address=ADDRESS, lines=[MUG], now=NOW,
                status_id=0, config=CONFIG)  # fmt: skip
    assert scopes(state) == ["store/order/created"]


def test_update_emits_status_and_update_and_bumps_date_modified() -> None:
    state = store()
    order = place_order(state, customer_id=2, billing_address=ADDRESS, lines=[MUG], now=NOW,
                        status_id=7, config=CONFIG)  # fmt: skip
    state.events.clear()
    later = NOW + timedelta(minutes=3)
    update_order(state, order, {"status_id": 11, "staff_notes": "ok"}, later)
    assert order.date_modified == later
    assert [(e.scope, e.data) for e in state.events] == [
        (
            "store/order/statusUpdated",
            {"type": "order", "id": order.id,
             "status": {"previous_status_id": 7, "new_status_id": 11}},
        ),
        ("store/order/updated", {"type": "order", "id": order.id}),
    ]  # fmt: skip
    state.events.clear()
    update_order(state, order, {"is_deleted": True}, later)
    assert order.is_deleted
    assert scopes(state) == ["store/order/updated", "store/order/archived"]
    archive_order(state, order, later)
    assert scopes(state) == []
    with pytest.raises(V2Error):
        update_order(state, order, {"status_id": 15}, later)
    with pytest.raises(V2Error):
        update_order(state, order, {"id": 1}, later)


def test_shipments_drive_shipped_statuses() -> None:
    state = store()
    order = place_order(state, customer_id=2, billing_address=ADDRESS, lines=[MUG, EBOOK],
                        now=NOW, config=CONFIG)  # fmt: skip
    mug = order.products[0]
    address_id = order.shipping_addresses[0].id
    state.events.clear()
    first = create_shipment(state, order, order_address_id=address_id, items=[(mug.id, 1)], now=NOW)
    assert order.status_id == 3
    assert order.date_shipped is None
    assert scopes(state) == [
        "store/order/statusUpdated",
        "store/order/updated",
        "store/shipment/created",
    ]
    later = NOW + timedelta(hours=1)
    create_shipment(state, order, order_address_id=address_id, items=[(mug.id, 2)], now=later)
    assert order.status_id == 2
    assert order.date_shipped == later
    with pytest.raises(V2Error):
        create_shipment(state, order, order_address_id=address_id, items=[(mug.id, 1)], now=later)
    with pytest.raises(V2Error):
        create_shipment(
            state, order, order_address_id=address_id, items=[(order.products[1].id, 1)], now=later
        )
    with pytest.raises(V2Error):
        create_shipment(state, order, order_address_id=999, items=[(mug.id, 1)], now=later)
    delete_shipment(state, order, first, later)
    assert order.status_id == 2
    assert mug.quantity_shipped == 2


def test_index_follows_new_and_touched_orders() -> None:
    state = store()
    orders = [
        place_order(state, customer_id=2, billing_address=ADDRESS, lines=[MUG],
                    now=NOW + timedelta(minutes=i), config=CONFIG)
        for i in range(5)
    ]  # fmt: skip
    index = OrderIndex(state)
    assert [o.id for o in index.by_date_modified(None, None, descending=False)] == [
        o.id for o in orders
    ]
    update_order(state, orders[1], {"staff_notes": "x"}, NOW + timedelta(hours=1))
    newer = place_order(state, customer_id=2, billing_address=ADDRESS, lines=[MUG],
                        now=NOW + timedelta(minutes=30), config=CONFIG)  # fmt: skip
    ascending = [o.id for o in index.by_date_modified(None, None, descending=False)]
    assert ascending == [orders[0].id, *[o.id for o in orders[2:]], newer.id, orders[1].id]
    window = index.by_date_modified(
        NOW + timedelta(minutes=2), NOW + timedelta(minutes=30), descending=True
    )
    assert [o.id for o in window] == [newer.id, orders[4].id, orders[3].id, orders[2].id]


def test_wire_formats() -> None:
    assert money(Decimal("336.32")) == "336.3200"
    assert money(Decimal("0")) == "0.0000"
    assert rfc2822(datetime(2012, 11, 20, tzinfo=UTC)) == "Tue, 20 Nov 2012 00:00:00 +0000"
    assert rfc2822(None) == ""
    expected = datetime(2017, 4, 20, 15, 32, tzinfo=UTC)
    assert parse_date("Thu, 20 Apr 2017 11:32:00 -0400") == expected
    assert parse_date("2017-04-20T11:32:00.000-04:00") == expected
    assert parse_date("2017-04-20T11:32:00 04:00") == datetime(2017, 4, 20, 7, 32, tzinfo=UTC)
    assert parse_date("2017-04-20T15:32:00") == expected
    with pytest.raises(ValueError, match="last tuesday"):
        parse_date("last tuesday")


@pytest.mark.parametrize("name", ["Les Cafés Réunis", "Ærø Supply", "東京 Trading", "***"])
def test_a_company_email_is_ascii_whatever_its_name(name: str) -> None:
    company = create_company(store(), name=name, now=NOW)
    local, _, domain = company.email.partition("@")
    assert company.email.isascii()
    assert local == "accounts"
    assert re.fullmatch(r"[a-z0-9]+\.example\.com", domain), domain
