"""Invoice Portal invoices, the state behind `routes/b2b_invoices.py`.

An invoice's `status` follows its open balance (0 open, 1 partially paid, 2 paid at ≤ 0); its
number is unique, and so is the BigCommerce order it invoices (bigcommerce-api.md §5.4).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from b2bsync.sandbox.b2b.companies import company_of_customer
from b2bsync.sandbox.b2b.extra_fields import ExtraFieldConfig
from b2bsync.sandbox.errors import B2BError
from b2bsync.sandbox.models import (
    Address,
    Invoice,
    Money,
    Order,
)
from b2bsync.sandbox.orders import total_inc_tax
from b2bsync.sandbox.world import StoreState

INVOICE_DUE_DAYS = 30
"""The Invoice Portal's configured payment terms, used when an invoice has no `dueDate`."""

INVOICE_EXTRA_FIELDS: tuple[ExtraFieldConfig, ...] = (
    ExtraFieldConfig(id=11, field_name="ERP Reference", field_type=0),
    ExtraFieldConfig(
        id=12,
        field_name="Payment Terms",
        field_type=3,
        list_of_values=("Net 15", "Net 30", "Net 60"),
    ),
)


def to_money(value: Decimal, code: str) -> Money:
    """`value` as Money at the Invoice Portal's four decimal places."""
    return Money(code=code, value=value.quantize(Decimal("0.0001")))


def refresh_invoice_status(invoice: Invoice) -> None:
    """Derive the status from the balances: 2 paid at ≤ 0, 1 partially paid, else 0 open."""
    if invoice.open_balance.value <= 0:
        invoice.status = 2
    elif invoice.open_balance.value < invoice.original_balance.value:
        invoice.status = 1
    else:
        invoice.status = 0


class _InvoiceNumbers:
    """Invoice numbers and order numbers in use, so uniqueness checks stay O(1) in stores with
    tens of thousands of invoices. It follows the store's invoice dict: a replaced dict, or one
    whose size changed behind this module's back, is indexed afresh."""

    def __init__(self, invoices: dict[int, Invoice]) -> None:
        self.source = invoices
        self.count = len(invoices)
        self.numbers = {inv.invoice_number: inv.id for inv in invoices.values()}
        self.orders = {inv.order_number: inv.id for inv in invoices.values() if inv.order_number}

    def current(self, invoices: dict[int, Invoice]) -> bool:
        return self.source is invoices and self.count == len(invoices)

    def add(self, invoice: Invoice) -> None:
        self.count += 1
        self.numbers[invoice.invoice_number] = invoice.id
        if invoice.order_number:
            self.orders[invoice.order_number] = invoice.id


_number_indexes: dict[int, tuple[weakref.ref[StoreState], _InvoiceNumbers]] = {}


def _numbers(state: StoreState) -> _InvoiceNumbers:
    entry = _number_indexes.get(id(state))
    if entry is not None and entry[0]() is state and entry[1].current(state.invoices):
        return entry[1]
    index = _InvoiceNumbers(state.invoices)
    _number_indexes[id(state)] = (weakref.ref(state), index)
    return index


def _holder(
    state: StoreState,
    key: str,
    table: Callable[[_InvoiceNumbers], dict[str, int]],
    read: Callable[[Invoice], str],
) -> int | None:
    """The id of the invoice whose `read` value is `key`, checked against the invoice itself."""
    found = table(_numbers(state)).get(key)
    invoice = state.invoices.get(found) if found is not None else None
    if found is not None and (invoice is None or read(invoice) != key):
        # Changed without this module knowing: index afresh and ask again.
        _number_indexes.pop(id(state), None)
        found = table(_numbers(state)).get(key)
    return found


def _invoice_numbered(state: StoreState, number: str) -> int | None:
    return _holder(state, number, lambda index: index.numbers, lambda inv: inv.invoice_number)


def _invoice_of_order(state: StoreState, order_number: str) -> int | None:
    return _holder(state, order_number, lambda index: index.orders, lambda inv: inv.order_number)


def _check_unique_number(state: StoreState, number: str, exclude: int | None = None) -> None:
    if _invoice_numbered(state, number) not in (None, exclude):
        raise B2BError(400, "The invoice number already exists.")


def _check_unique_order_number(state: StoreState, order_number: str, exclude: int | None) -> None:
    # bigcommerce-api.md §5.4: one invoice per BigCommerce order id.
    if order_number and _invoice_of_order(state, order_number) not in (None, exclude):
        raise B2BError(400, f"An invoice already exists for order {order_number}.")


def create_invoice(
    state: StoreState,
    *,
    invoice_number: str,
    customer_id: int,
    original_balance: Money,
    open_balance: Money,
    now: datetime,
    **fields: Any,
) -> Invoice:
    """`POST /ip/invoices`: `fields` are further `Invoice` attributes (`due_date`, `type`,
    `status`, `order_number`, `details`, `external_id`, ...). Status follows the balances
    unless given; `created_at` may be given as the invoice's issue time."""
    if not invoice_number:
        raise B2BError(422, "invoiceNumber is required")
    if customer_id not in state.companies:
        raise B2BError(404, "Company does not exist")
    _check_unique_number(state, invoice_number)
    _check_unique_order_number(state, str(fields.get("order_number") or ""), None)
    issued = fields.pop("created_at", None) or now
    status = fields.pop("status", None)
    invoice = Invoice(
        id=state.next_id("invoice", 1),
        invoice_number=invoice_number,
        customer_id=customer_id,
        original_balance=original_balance,
        open_balance=open_balance,
        created_at=issued,
        updated_at=now,
        due_date=fields.pop("due_date", None) or issued + timedelta(days=INVOICE_DUE_DAYS),
        **fields,
    )
    if status is None:
        refresh_invoice_status(invoice)
    else:
        invoice.status = int(status)
        if invoice.open_balance.value <= 0:
            invoice.status = 2
    index = _numbers(state)
    state.invoices[invoice.id] = invoice
    index.add(invoice)
    return invoice


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _invoice_address(address: Address) -> dict[str, Any]:
    return {
        "firstName": address.first_name,
        "lastName": address.last_name,
        "street1": address.street_1,
        "street2": address.street_2,
        "city": address.city,
        "state": address.state,
        "zipCode": address.zip,
        "country": address.country,
    }


def _order_details(order: Order) -> dict[str, Any]:
    code = order.currency_code
    tax = sum(
        ((p.price_inc_tax - p.price_ex_tax) * p.quantity for p in order.products), Decimal("0")
    )
    cost_lines = [
        {"description": "Shipping", "amount": _wire_money(order.shipping_cost_inc_tax, code)},
        {"description": "Tax", "amount": _wire_money(tax, code)},
    ]
    if order.discount_amount:
        cost_lines.append(
            {"description": "Discount", "amount": _wire_money(-order.discount_amount, code)}
        )
    shipping = [_invoice_address(sa.address) for sa in order.shipping_addresses] or [
        _invoice_address(order.billing_address)
    ]
    details: dict[str, Any] = {
        "lineItems": [
            {
                "sku": product.sku,
                "description": product.name,
                "quantity": str(product.quantity),
                "unitPrice": _wire_money(product.price_ex_tax, code),
                "unitDiscount": _wire_money(Decimal("0"), code),
                "type": product.type,
                "comments": f"BigCommerce order #{order.id}",
            }
            for product in order.products
        ]
    }
    address_index = {sa.id: index for index, sa in enumerate(order.shipping_addresses)}
    if order.shipments:
        details["shipments"] = [
            {
                "addressIndex": str(address_index.get(shipment.order_address_id, 0)),
                "shipDate": str(_unix(shipment.date_created)),
                "shipVia": shipment.shipping_method or shipment.shipping_provider,
                "trackingNumber": shipment.tracking_number,
                "comments": shipment.comments,
            }
            for shipment in order.shipments
        ]
    return {
        "type": "StandardInvoiceDetails",
        "header": {
            "orderDate": _unix(order.date_created),
            "costLines": cost_lines,
            "billingAddress": _invoice_address(order.billing_address),
            "shippingAddresses": shipping,
        },
        "details": details,
    }


def _wire_money(value: Decimal, code: str) -> dict[str, str]:
    return {"code": code, "value": f"{value.quantize(Decimal('0.0001'))}"}


def create_invoice_from_order(state: StoreState, order: Order, now: datetime) -> Invoice:
    """Invoice a BigCommerce order (`POST /ip/orders/{orderId}/invoices`): one invoice per order,
    numbered like the order when that number is free, for its grand total, details built from its
    lines and addresses. Records the invoice in the order's ground truth."""
    company = company_of_customer(state, order.customer_id)
    if company is None:
        raise B2BError(404, "Order does not exist")
    number = str(order.id)
    suffix = 1
    while _invoice_numbered(state, number) is not None:
        suffix += 1
        number = f"{order.id}-{suffix}"
    total = total_inc_tax(order)
    record = state.b2b_orders.get(order.id)
    invoice = create_invoice(
        state,
        invoice_number=number,
        customer_id=company.id,
        original_balance=to_money(total, order.currency_code),
        open_balance=to_money(total, order.currency_code),
        now=now,
        order_number=str(order.id),
        purchase_order_number=record.po_number if record else "",
        channel_id=order.channel_id,
        details=_order_details(order),
    )
    order.truth_invoice_ids.append(invoice.id)
    return invoice


def update_invoice(
    state: StoreState, invoice: Invoice, changes: Mapping[str, Any], now: datetime
) -> Invoice:
    """`PUT /ip/invoices/{id}`: set the given `Invoice` attributes (`details` wholesale).

    A status of 2 is forced whenever the open balance is ≤ 0; otherwise a given status wins
    and a balance change without one re-derives it.
    """
    if "invoice_number" in changes:
        _check_unique_number(state, str(changes["invoice_number"]), invoice.id)
    if "order_number" in changes:
        _check_unique_order_number(state, str(changes["order_number"]), invoice.id)
    if "customer_id" in changes and changes["customer_id"] not in state.companies:
        raise B2BError(404, "Company does not exist")
    for name, value in changes.items():
        setattr(invoice, name, value)
    if {"invoice_number", "order_number"} & changes.keys():
        _number_indexes.pop(id(state), None)
    if "status" not in changes and {"open_balance", "original_balance"} & changes.keys():
        refresh_invoice_status(invoice)
    if invoice.open_balance.value <= 0:
        invoice.status = 2
    invoice.updated_at = max(now, invoice.updated_at)
    return invoice


def delete_invoice(state: StoreState, invoice_id: int) -> None:
    """`DELETE /ip/invoices/{id}`."""
    if state.invoices.pop(invoice_id, None) is None:
        raise B2BError(404, "Invoice does not exist")


def get_invoice(state: StoreState, invoice_id: int) -> Invoice:
    """The invoice, or 404 "Invoice does not exist"."""
    invoice = state.invoices.get(invoice_id)
    if invoice is None:
        raise B2BError(404, "Invoice does not exist")
    return invoice
