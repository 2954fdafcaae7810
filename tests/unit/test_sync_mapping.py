"""`sync/mapping.py`: wire models → drafts, cache rows and composed records (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from b2bsync.bigcommerce.models.b2b import B2BOrder, Company, Invoice, Payment
from b2bsync.bigcommerce.models.metafields import Metafield
from b2bsync.bigcommerce.models.orders import Order
from b2bsync.domain.classification import Signals
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.records import InvoiceRole
from b2bsync.store.signals import CompanyRow, OrderSignalRow, SignalBundle
from b2bsync.sync.mapping import (
    b2b_order_signal,
    company_row,
    compose,
    draft_from_order,
    invoice_row,
    lines_are_payment_product,
    metafield_signal,
    observed,
    payment_product_id,
    payment_row,
    signals_for,
)

STORE = "abc123"


def _product(line_id: int, product_id: int, kind: str = "physical") -> dict[str, Any]:
    return {
        "id": line_id,
        "order_id": 101,
        "product_id": product_id,
        "variant_id": 0 if kind == "digital" else product_id + 1,
        "order_address_id": 7,
        "name": f"Item {line_id}",
        "sku": f"SKU-{line_id}",
        "type": kind,
        "price_ex_tax": "10.0000",
        "price_inc_tax": "11.0000",
        "total_ex_tax": "20.0000",
        "total_inc_tax": "22.0000",
        "quantity": 2,
        "quantity_shipped": 1,
    }


def _order(**overrides: Any) -> Order:
    body: dict[str, Any] = {
        "id": 101,
        "customer_id": 5,
        "date_created": "Tue, 20 Oct 2026 10:00:00 +0000",
        "date_modified": "Wed, 21 Oct 2026 11:30:00 +0000",
        "status_id": 11,
        "status": "Awaiting Fulfillment",
        "custom_status": "Being packed",
        "subtotal_ex_tax": "40.0000",
        "subtotal_inc_tax": "44.0000",
        "total_ex_tax": "45.0000",
        "total_inc_tax": "49.5000",
        "total_tax": "4.5000",
        "payment_method": "Credit Card",
        "payment_status": "captured",
        "currency_code": "USD",
        "staff_notes": "",
        "customer_message": "ring twice",
        "is_deleted": False,
        "external_order_id": None,
        "billing_address": {"first_name": "Ada", "last_name": "Byron", "email": "ada@x.test"},
        "consignments": {
            "pickups": [],
            "shipping": [
                {
                    "id": 7,
                    "first_name": "Dock",
                    "last_name": "Seven",
                    "street_1": "1 Pier",
                    "city": "Austin",
                    "country_iso2": "US",
                    "line_items": [_product(12, 300), _product(11, 200)],
                }
            ],
            "downloads": [
                {"recipient_email": "ada@x.test", "line_items": [_product(13, 400, "digital")]}
            ],
            "email": {"gift_certificates": []},
        },
    }
    body.update(overrides)
    return Order.model_validate(body)


def test_a_v2_order_becomes_an_unclassified_draft_with_lines_and_addresses() -> None:
    draft = draft_from_order(STORE, _order())

    assert draft.order_type is OrderType.UNCLASSIFIED
    assert draft.store == STORE
    assert draft.order_id == 101
    assert draft.status == "Being packed"
    assert draft.date_modified == datetime(2026, 10, 21, 11, 30, tzinfo=UTC)
    assert draft.total_inc_tax == Decimal("49.5")
    assert [line.id for line in draft.line_items] == [11, 12, 13]
    assert draft.line_items[0].product_id == 200
    assert draft.line_items[0].variant_id == 201
    assert draft.line_items[2].variant_id is None
    assert draft.line_items[2].type == "digital"
    assert draft.line_items[0].quantity_shipped == 1
    assert [address.street_1 for address in draft.shipping_addresses] == ["1 Pier"]
    assert draft.billing_address.email == "ada@x.test"
    assert draft.customer_message == "ring twice"
    assert draft.external_order_id == ""
    assert draft.b2b is None
    assert draft.invoices == ()


def test_consignments_as_links_give_no_lines_and_archived_is_kept() -> None:
    linked = {"url": "https://x/v2/orders/101/consignments", "resource": "/orders/101/consignments"}
    draft = draft_from_order(STORE, _order(consignments=linked, is_deleted=True))
    assert draft.line_items == ()
    assert draft.shipping_addresses == ()
    assert draft.is_archived is True


def _invoice(**overrides: Any) -> Invoice:
    body: dict[str, Any] = {
        "id": 900,
        "invoiceNumber": "INV-900",
        "orderNumber": "101",
        "customerId": 77,
        "status": 1,
        "originalBalance": {"code": "USD", "value": "49.50"},
        "openBalance": {"code": "USD", "value": "20.00"},
        "updatedAt": 1760000000,
    }
    body.update(overrides)
    return Invoice.model_validate(body)


def _payment() -> Payment:
    return Payment.model_validate(
        {
            "id": 55,
            "customerId": 77,
            "moduleName": "payments_bigcommerce_sales_order",
            "moduleData": {"orderId": "102", "cartId": "c-1"},
            "processingStatus": 3,
            "total": {"code": "USD", "value": "29.50"},
            "lineItems": [
                {
                    "invoiceId": 900,
                    "invoiceNumber": "INV-900",
                    "amount": {"code": "USD", "value": "29.50"},
                }
            ],
            "updatedAt": 1760000100,
        }
    )


def test_cache_rows_from_b2b_edition_models() -> None:
    invoice = invoice_row(_invoice())
    assert invoice.order_number == "101"
    assert invoice.company_id == 77
    assert invoice.open_balance == Decimal("20.00")
    assert invoice.currency == "USD"
    assert invoice_row(_invoice(orderNumber="  ")).order_number is None

    payment = payment_row(_payment())
    assert payment.order_id == 102
    assert payment.company_id == 77
    assert payment.total == Decimal("29.50")
    assert [(line.invoice_id, line.amount) for line in payment.lines] == [(900, Decimal("29.50"))]

    company = company_row(Company.model_validate({"companyId": 77, "companyName": "Acme"}))
    assert (company.company_id, company.name) == (77, "Acme")

    record = b2b_order_signal(
        B2BOrder.model_validate(
            {
                "id": 5010,
                "bcOrderId": 101,
                "companyId": 77,
                "poNumber": "PO-1",
                "extraFields": [{"fieldName": "Cost Center", "fieldValue": "CC-9"}],
                "isInvoiceOrder": 0,
            }
        )
    )
    assert (record.order_id, record.b2b_order_id, record.company_id) == (101, 5010, 77)
    assert record.extra_fields == {"Cost Center": "CC-9"}
    assert record.is_invoice_order is False
    listed = B2BOrder.model_validate({"bcOrderId": 101, "companyId": 77})
    assert b2b_order_signal(listed).is_invoice_order is None


def test_only_order_type_metafields_are_signals_whatever_their_namespace() -> None:
    def metafield(key: str, namespace: str) -> Metafield:
        return Metafield.model_validate(
            {
                "id": 1,
                "key": key,
                "value": "invoice payment",
                "namespace": namespace,
                "resource_id": 101,
            }
        )

    found = metafield_signal(metafield("orderType", "custom_ns"))
    assert found is not None
    assert (found.order_id, found.value, found.namespace) == (101, "invoice payment", "custom_ns")
    assert metafield_signal(metafield("color", "b2b_edition")) is None


def test_an_invoice_payment_links_the_invoices_it_pays_with_amount_and_open_balance() -> None:
    draft = draft_from_order(STORE, _order(id=102))
    bundle = SignalBundle(
        signal=None,
        company=CompanyRow(77, "Acme"),
        payment=payment_row(_payment()),
        paid_invoices={900: invoice_row(_invoice())},
    )
    record = compose(draft, bundle, OrderType.INVOICE_PAYMENT)

    assert record.order_type is OrderType.INVOICE_PAYMENT
    assert record.b2b is not None
    assert (record.b2b.company_id, record.b2b.company_name, record.b2b.payment_id) == (
        77,
        "Acme",
        55,
    )
    (link,) = record.invoices
    assert link.role is InvoiceRole.PAID_BY_ORDER
    assert (link.invoice_id, link.invoice_number) == (900, "INV-900")
    assert link.amount == Decimal("29.50")
    assert link.open_balance == Decimal("20.00")


def test_an_online_order_links_the_invoice_created_from_it_and_its_b2b_record() -> None:
    draft = draft_from_order(STORE, _order())
    signal = OrderSignalRow(
        order_id=101,
        metafield_value="online order",
        b2b_order_id=5010,
        company_id=77,
        po_number="PO-1",
        extra_fields={"Cost Center": "CC-9"},
    )
    bundle = SignalBundle(
        signal=signal, company=CompanyRow(77, "Acme"), billed_by=(invoice_row(_invoice()),)
    )
    record = compose(draft, bundle, OrderType.ONLINE_ORDER)

    assert record.b2b is not None
    assert record.b2b.po_number == "PO-1"
    assert record.b2b.extra_fields == {"Cost Center": "CC-9"}
    assert record.b2b.payment_id is None
    (link,) = record.invoices
    assert link.role is InvoiceRole.CREATED_FROM_ORDER
    assert link.amount is None
    assert link.open_balance == Decimal("20.00")
    assert (
        record.model_copy(
            update={"order_type": OrderType.UNCLASSIFIED, "b2b": None, "invoices": ()}
        )
        == draft
    )

    seen = observed(draft, bundle)
    assert (seen.company_id, seen.po_number, seen.invoice_ids) == (77, "PO-1", (900,))


def test_a_b2c_order_has_no_b2b_info() -> None:
    record = compose(draft_from_order(STORE, _order()), SignalBundle(), OrderType.ONLINE_ORDER)
    assert record.b2b is None
    assert record.invoices == ()


def test_cached_signals_win_over_remembered_ones_and_fill_the_gaps() -> None:
    stored = Signals(b2b_is_invoice_order=True, lines_are_payment_product=False)
    cached = SignalBundle(signal=OrderSignalRow(order_id=1, metafield_value="online order"))
    assert signals_for(cached, stored) == Signals(
        metafield_value="online order", b2b_is_invoice_order=True, lines_are_payment_product=False
    )
    overriding = SignalBundle(signal=OrderSignalRow(order_id=1, is_invoice_order=False))
    assert signals_for(overriding, stored, True) == Signals(
        b2b_is_invoice_order=False, lines_are_payment_product=True
    )
    assert signals_for(SignalBundle(), Signals()) == Signals()


@pytest.mark.parametrize(
    ("product_ids", "expected"),
    [((400,), True), ((200, 300), False), ((400, 200), None), ((), None)],
)
def test_payment_product_signal(product_ids: tuple[int, ...], expected: bool | None) -> None:
    lines = [_product(i + 1, product_id) for i, product_id in enumerate(product_ids)]
    consignments = {"shipping": [{"id": 7, "line_items": lines}], "downloads": []}
    draft = draft_from_order(STORE, _order(consignments=consignments))
    assert lines_are_payment_product(draft, 400) is expected


def test_payment_product_id_from_ip_config() -> None:
    assert payment_product_id({"paymentsBigcommerceSalesOrder": {"productId": 81}}) == 81
    assert payment_product_id({"paymentsBigcommerceSalesOrder": {"productId": "x"}}) is None
    assert payment_product_id({"paymentsBigcommerceSalesOrder": {}}) is None
    assert payment_product_id({}) is None
