"""B2B Edition inside the sandbox: companies, B2B order records and the Invoice Portal.

Services only, no HTTP: the routes in `routes/b2b_*.py` parse requests and call these; the seed
and the simulator call them directly. Every refusal is a `B2BError` carrying the status and the
`errMsg` B2B Edition answers with. Money is Decimal, times are aware UTC datetimes.

The Invoice Portal rules the sandbox keeps (bigcommerce-api.md §5.4, §6):
- an invoice's `status` follows its open balance (0 open, 1 partially paid, 2 paid at ≤ 0);
- a payment reduces the open balances of its lines while it is *applied*: payments are applied
  when they reach processing status 3 (Completed) and reverted when refunded (4); each
  application and each reversal leaves a receipt ("Paid" / "Refund") with one line per invoice;
- payments in processing status 1 or 2 count as pending on their invoices (`isPendingPayment`).
"""

from __future__ import annotations

import json
import unicodedata
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from b2bsync.sandbox.config import SandboxConfig
from b2bsync.sandbox.errors import B2BError
from b2bsync.sandbox.models import (
    Address,
    B2BOrder,
    Company,
    ExtraField,
    Invoice,
    Money,
    Order,
    Payment,
    PaymentLine,
    Receipt,
    ReceiptLine,
)
from b2bsync.sandbox.orders import LineSpec, new_cart_id, place_order, total_inc_tax
from b2bsync.sandbox.world import StoreState, register_action

ATTACH_WINDOW = timedelta(seconds=10)
"""`POST /orders` must come within 10 s of the BigCommerce order's creation (order.yaml)."""

INVOICE_DUE_DAYS = 30
"""The Invoice Portal's configured payment terms, used when an invoice has no `dueDate`."""

MODULE_BC_SALES_ORDER = "payments_bigcommerce_sales_order"
MODULE_OFFLINE = "payments_offline"
DEFAULT_OFFLINE_PAYER = "Store offline payment"
INVOICE_PAYMENT_PRODUCT_NAME = "Invoice Payment"

# Processing statuses (payment.yaml): 0 Incomplete, 1 Awaiting Processing, 2 Processing,
# 3 Completed, 4 Refunded.
COMPLETED = 3
REFUNDED = 4
PENDING_STATUSES = frozenset({1, 2})

ALLOWED_STATUSES: Mapping[int, tuple[int, ...]] = {
    0: (1, 2, 3),
    1: (1, 2, 3),
    2: (1, 2, 3),
    3: (1, 2, 3, 4),
    4: (4,),
}
"""Processing statuses a payment may be set to from each status (the current one included, as
in the spec's examples: a completed payment lists `[1, 2, 3, 4]`). Only a completed payment can
be refunded, and a refund is final."""

# Payment operations (payment.yaml `operationCode`).
OP_APPLY = 0
OP_REVERT = 1
OP_PULL_FROM_ORDER = 2

ORDER_GONE_STATUSES = frozenset({4, 5})
"""V2 statuses (Refunded, Cancelled) after which a checkout payment no longer stands."""

CHANNEL_NAMES: Mapping[int, str] = {1: "Default Storefront"}
COUNTRY_NAMES: Mapping[str, str] = {"US": "United States", "CA": "Canada", "GB": "United Kingdom"}
"""Company addresses keep ISO codes; V2 addresses spell the country out."""


def channel_name(channel_id: int) -> str:
    """The storefront channel's display name."""
    return CHANNEL_NAMES.get(channel_id, f"Channel {channel_id}")


# --- extra-field configurations -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExtraFieldConfig:
    """One extra field the merchant configured for orders or invoices."""

    id: int
    field_name: str
    field_type: int  # 0 text, 1 multi-line text, 2 number, 3 dropdown
    is_required: bool = False
    is_unique: bool = False
    visible_to_enduser: bool = True
    default_value: str = ""
    maximum_length: int = 100
    number_of_rows: int = 0
    maximum_value: int = 0
    list_of_values: tuple[str, ...] = ()
    config_type: int = 2  # 1 built-in, 2 user-defined


ORDER_EXTRA_FIELDS: tuple[ExtraFieldConfig, ...] = (
    ExtraFieldConfig(id=1, field_name="Cost Center", field_type=0, is_required=True),
    ExtraFieldConfig(
        id=2,
        field_name="Delivery Window",
        field_type=3,
        list_of_values=("Morning", "Afternoon", "Evening"),
        default_value="Morning",
    ),
    ExtraFieldConfig(id=3, field_name="Buyer Notes", field_type=1, number_of_rows=4),
)
"""The sandbox store's order extra fields; "Cost Center" is required, so a `PUT /orders/{id}`
must carry it unless the order already has a value."""

INVOICE_EXTRA_FIELDS: tuple[ExtraFieldConfig, ...] = (
    ExtraFieldConfig(id=11, field_name="ERP Reference", field_type=0),
    ExtraFieldConfig(
        id=12,
        field_name="Payment Terms",
        field_type=3,
        list_of_values=("Net 15", "Net 30", "Net 60"),
    ),
)


def check_extra_fields(
    configs: Sequence[ExtraFieldConfig],
    given: Sequence[ExtraField],
    existing: Sequence[ExtraField] = (),
) -> list[ExtraField]:
    """Validate `given` against `configs` and merge it into `existing` (by field name).

    Raises 422 for unknown fields, values outside a dropdown's list, non-numbers in number
    fields, and required fields that end up without a value.
    """
    by_name = {config.field_name: config for config in configs}
    merged = {extra.field_name: extra.field_value for extra in existing}
    for extra in given:
        config = by_name.get(extra.field_name)
        if config is None:
            raise B2BError(422, f"{extra.field_name} is not a configured extra field")
        if config.field_type == 3 and extra.field_value not in config.list_of_values:
            raise B2BError(422, f"{extra.field_name} must be one of {list(config.list_of_values)}")
        if config.field_type == 2:
            try:
                Decimal(extra.field_value)
            except ArithmeticError:
                raise B2BError(422, f"{extra.field_name} must be a number") from None
        merged[extra.field_name] = extra.field_value
    for config in configs:
        if config.is_required and not merged.get(config.field_name):
            raise B2BError(422, f"{config.field_name} is a required extra field")
    return [ExtraField(name, value) for name, value in merged.items()]


# --- companies ------------------------------------------------------------------------------


def create_company(
    state: StoreState,
    *,
    name: str,
    now: datetime,
    email: str = "",
    phone: str = "",
    status: int = 1,
    address_line1: str = "",
    city: str = "",
    region: str = "",
    zip_code: str = "",
    country: str = "US",
    external_uuid: str | None = None,
    extra_fields: Sequence[ExtraField] = (),
) -> Company:
    """Register a company with its own customer group (Independent Companies behaviour).

    `region` is the company address's state or province; `external_uuid` its ERP id (a UUID,
    drawn from the store's rng when not given, so seeded worlds stay reproducible).
    """
    company_id = state.next_id("company", 1001)
    group_id = state.next_id("customer_group", 1)
    # An email's domain is ASCII (the spec's `format: email`): "Cafés" becomes "cafes".
    folded = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
    slug = "".join(ch for ch in folded if ch.isalnum()) or f"company{company_id}"
    company = Company(
        id=company_id,
        name=name,
        email=email or f"accounts@{slug}.example.com",
        phone=phone,
        status=status,
        bc_group_id=group_id,
        bc_group_name=name,
        address_line1=address_line1,
        city=city,
        state=region,
        zip_code=zip_code,
        country=country,
        created_at=now,
        updated_at=now,
        uuid=external_uuid or str(uuid.UUID(int=state.rng.getrandbits(128), version=4)),
        extra_fields=list(extra_fields),
    )
    state.companies[company.id] = company
    return company


def company_of_customer(state: StoreState, customer_id: int) -> Company | None:
    """The company a BigCommerce customer buys for, if any."""
    customer = state.customers.get(customer_id)
    if customer is None or customer.company_id is None:
        return None
    return state.companies.get(customer.company_id)


# --- B2B order records ----------------------------------------------------------------------


def _new_b2b_order(
    state: StoreState,
    order: Order,
    company: Company,
    now: datetime,
    *,
    po_number: str = "",
    extra_fields: Sequence[ExtraField] = (),
    is_invoice_order: bool = False,
    invoice_id: int | None = None,
) -> B2BOrder:
    record = B2BOrder(
        id=state.next_id("b2b_order", 5001),
        bc_order_id=order.id,
        company_id=company.id,
        customer_id=order.customer_id,
        created_at=now,
        updated_at=now,
        po_number=po_number,
        extra_fields=list(extra_fields),
        is_invoice_order=is_invoice_order,
        invoice_id=invoice_id,
    )
    state.b2b_orders[order.id] = record
    return record


@register_action("b2b.attach_order")
def attach_order(state: StoreState, payload: dict[str, Any], now: datetime) -> None:
    """B2B Edition noticing a new BigCommerce order of a company buyer and recording it.

    Payload: `order_id`, `is_invoice_order`, `invoice_id`, optionally `po_number` and
    `extra_fields` (`[{fieldName, fieldValue}]` or `[(name, value)]`). An order that is gone or
    whose buyer left their company gets no record; an order that already has one (attached
    through `POST /orders` in the meantime) keeps it, gaining only the invoice-payment facts.
    """
    order = state.orders.get(int(payload["order_id"]))
    if order is None:
        return
    invoice_id = payload.get("invoice_id")
    is_invoice_order = bool(payload.get("is_invoice_order"))
    existing = state.b2b_orders.get(order.id)
    if existing is not None:
        if is_invoice_order:
            existing.is_invoice_order = True
            existing.invoice_id = int(invoice_id) if invoice_id is not None else None
        return
    company = company_of_customer(state, order.customer_id)
    if company is None:
        return
    _new_b2b_order(
        state,
        order,
        company,
        now,
        po_number=str(payload.get("po_number") or ""),
        extra_fields=_payload_extra_fields(payload.get("extra_fields") or ()),
        is_invoice_order=is_invoice_order,
        invoice_id=int(invoice_id) if invoice_id is not None else None,
    )


def _payload_extra_fields(raw: Iterable[Any]) -> list[ExtraField]:
    fields: list[ExtraField] = []
    for item in raw:
        if isinstance(item, ExtraField):
            fields.append(item)
        elif isinstance(item, Mapping):
            name = item.get("fieldName", item.get("field_name", ""))
            fields.append(
                ExtraField(str(name), str(item.get("fieldValue", item.get("field_value"))))
            )
        else:
            name, value = item
            fields.append(ExtraField(str(name), str(value)))
    return fields


def attach_order_via_api(
    state: StoreState,
    *,
    bc_order_id: int,
    customer_id: int,
    now: datetime,
    po_number: str | None = None,
    extra_fields: Sequence[ExtraField] = (),
) -> B2BOrder:
    """`POST /orders`: add B2B data to a BigCommerce order within 10 s of its creation.

    Past the window, or when B2B Edition already holds the order, B2B Edition answers 400
    "The order already exists." (order.yaml).
    """
    order = state.orders.get(bc_order_id)
    if order is None:
        raise B2BError(404, "Order Does Not Exist.")
    if bc_order_id in state.b2b_orders or now - order.date_created > ATTACH_WINDOW:
        raise B2BError(400, "The order already exists.")
    if order.customer_id != customer_id:
        raise B2BError(422, "The customer did not place this order.")
    company = company_of_customer(state, customer_id)
    if company is None:
        raise B2BError(422, "The customer does not belong to a company.")
    fields = check_extra_fields(ORDER_EXTRA_FIELDS, extra_fields) if extra_fields else []
    return _new_b2b_order(
        state, order, company, now, po_number=po_number or "", extra_fields=fields
    )


def update_b2b_order(
    state: StoreState,
    record: B2BOrder,
    *,
    now: datetime,
    po_number: str | None = None,
    extra_fields: Sequence[ExtraField] | None = None,
) -> B2BOrder:
    """`PUT /orders/{bcOrderId}`: change the PO number and/or extra fields (not the V2 order)."""
    if po_number is None and extra_fields is None:
        raise B2BError(422, "Either poNumber or extraFields is required.")
    fields = check_extra_fields(ORDER_EXTRA_FIELDS, extra_fields or (), record.extra_fields)
    if po_number is not None:
        record.po_number = po_number
    record.extra_fields = fields
    record.updated_at = max(now, record.updated_at)
    return record


def b2b_order_updated_at(record: B2BOrder, order: Order) -> datetime:
    """A B2B order changes when either its own data or the BigCommerce order changes."""
    return max(record.updated_at, order.date_modified)


# --- invoices -------------------------------------------------------------------------------


def _money(value: Decimal, code: str) -> Money:
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
        original_balance=_money(total, order.currency_code),
        open_balance=_money(total, order.currency_code),
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


# --- payments and receipts ------------------------------------------------------------------


def _count_pending(state: StoreState, payment: Payment, delta: int) -> None:
    """Count a pending payment on (delta 1) or off (delta -1) its invoices' pending tallies."""
    if payment.processing_status not in PENDING_STATUSES:
        return
    for line in payment.line_items:
        if invoice := state.invoices.get(line.invoice_id):
            invoice.pending_payment_count = max(0, invoice.pending_payment_count + delta)


def _check_allocations(
    state: StoreState,
    company_id: int,
    allocations: Sequence[tuple[int, Decimal]],
    credit: Mapping[int, Decimal] | None = None,
) -> tuple[str, list[tuple[Invoice, Decimal]]]:
    """The currency and invoices of a payment's lines; 422 when a line cannot be paid.

    `credit` is what a payment being changed already took off each invoice: it is available to
    the new lines again.
    """
    if not allocations:
        raise B2BError(422, "lineItems is required")
    checked: list[tuple[Invoice, Decimal]] = []
    seen: set[int] = set()
    for invoice_id, amount in allocations:
        invoice = state.invoices.get(invoice_id)
        if invoice is None:
            raise B2BError(422, f"Invoice {invoice_id} does not exist")
        if invoice.customer_id != company_id:
            raise B2BError(422, f"Invoice {invoice_id} does not belong to company {company_id}")
        if invoice_id in seen:
            raise B2BError(422, f"Invoice {invoice_id} appears twice in lineItems")
        if amount <= 0:
            raise B2BError(422, "The payment amount must be positive")
        if amount > invoice.open_balance.value + (credit or {}).get(invoice_id, Decimal("0")):
            raise B2BError(422, f"The amount exceeds the open balance of invoice {invoice_id}")
        seen.add(invoice_id)
        checked.append((invoice, amount))
    currencies = {invoice.open_balance.code for invoice, _ in checked}
    if len(currencies) != 1:
        raise B2BError(422, "Invalid currency code")
    return currencies.pop(), checked


def _receipt_type(payment: Payment) -> str:
    if payment.module_name == MODULE_OFFLINE:
        return "Offline"
    card = next(
        (t.get("card") for t in payment.module_data.get("transactions", []) if t.get("card")), None
    )
    if card:
        return f"{str(card['type']).capitalize()} ending in {card['last4']}"
    return "Online"


def _reference_number(payment: Payment) -> str:
    if payment.module_name == MODULE_BC_SALES_ORDER:
        return str(payment.module_data.get("orderId", payment.id))
    return payment.external_id or str(payment.id)


def _write_receipt(state: StoreState, payment: Payment, kind: str, now: datetime) -> Receipt:
    receipt_id = state.next_id("receipt", 1)
    lines = [
        ReceiptLine(
            id=state.next_id("receipt_line", 1),
            receipt_id=receipt_id,
            invoice_id=line.invoice_id,
            invoice_number=line.invoice_number,
            amount=line.amount,
            created_at=now,
            updated_at=now,
        )
        for line in payment.line_items
    ]
    receipt = Receipt(
        id=receipt_id,
        payment_id=payment.id,
        customer_id=payment.customer_id,
        created_at=now,
        updated_at=now,
        total=payment.total,
        transaction_type=kind,
        payment_type=_receipt_type(payment),
        reference_number=_reference_number(payment),
        payer_name=payment.payer_name,
        lines=lines,
        payer_customer_id=payment.payer_customer_id,
        memo=payment.memo,
        external_id=payment.external_id,
        external_customer_id=payment.external_customer_id,
    )
    state.receipts[receipt.id] = receipt
    return receipt


def _apply(state: StoreState, payment: Payment, now: datetime) -> None:
    """Reduce the open balances of the payment's invoices and record the receipt."""
    for line in payment.line_items:
        if invoice := state.invoices.get(line.invoice_id):
            invoice.open_balance = _money(
                invoice.open_balance.value - line.amount.value, invoice.open_balance.code
            )
            refresh_invoice_status(invoice)
            invoice.updated_at = max(now, invoice.updated_at)
    payment.applied_status = 1
    _write_receipt(state, payment, "Paid", now)


def _revert(state: StoreState, payment: Payment, now: datetime) -> None:
    """Give the payment's amounts back to its invoices and record the refund receipt."""
    for line in payment.line_items:
        if invoice := state.invoices.get(line.invoice_id):
            invoice.open_balance = _money(
                min(invoice.open_balance.value + line.amount.value, invoice.original_balance.value),
                invoice.open_balance.code,
            )
            refresh_invoice_status(invoice)
            invoice.updated_at = max(now, invoice.updated_at)
    payment.applied_status = 0
    _write_receipt(state, payment, "Refund", now)


def allowed_statuses(payment: Payment) -> list[int]:
    """The processing statuses `PUT .../processing-status` accepts for this payment now."""
    return list(ALLOWED_STATUSES.get(payment.processing_status, ()))


def allowed_operations(payment: Payment) -> list[int]:
    """The operation codes `POST .../operations` accepts for this payment now."""
    if payment.processing_status == REFUNDED:
        return []
    operations = [OP_REVERT] if payment.applied_status else [OP_APPLY]
    if payment.module_name == MODULE_BC_SALES_ORDER:
        operations.append(OP_PULL_FROM_ORDER)
    return operations


def _new_payment(
    state: StoreState,
    *,
    company_id: int,
    currency: str,
    checked: Sequence[tuple[Invoice, Decimal]],
    module_name: str,
    module_data: dict[str, Any],
    processing_status: int,
    now: datetime,
    **fields: Any,
) -> Payment:
    payment_id = state.next_id("payment", 1)
    total = sum((amount for _, amount in checked), Decimal("0"))
    payment = Payment(
        id=payment_id,
        customer_id=company_id,
        created_at=now,
        updated_at=now,
        module_name=module_name,
        module_data=module_data,
        processing_status=processing_status,
        total=_money(total, currency),
        line_items=[
            PaymentLine(invoice.id, invoice.invoice_number, _money(amount, currency))
            for invoice, amount in checked
        ],
        applied_status=0,
        **fields,
    )
    state.payments[payment.id] = payment
    if processing_status == COMPLETED:
        _apply(state, payment, now)
    _count_pending(state, payment, 1)
    return payment


def _billing_address(state: StoreState, customer_id: int, company: Company) -> Address:
    customer = state.customers.get(customer_id)
    return Address(
        first_name=customer.first_name if customer else "",
        last_name=customer.last_name if customer else "",
        company=company.name,
        street_1=company.address_line1,
        street_2="",
        city=company.city,
        state=company.state,
        zip=company.zip_code,
        country=COUNTRY_NAMES.get(company.country, company.country),
        country_iso2=company.country if len(company.country) == 2 else "",
        phone=customer.phone if customer and customer.phone else company.phone,
        email=customer.email if customer else company.email,
    )


def checkout_invoice_payment(
    state: StoreState,
    *,
    company_id: int,
    customer_id: int,
    allocations: Sequence[tuple[int, Decimal]],
    now: datetime,
    config: SandboxConfig,
) -> Order:
    """A buyer paying invoices through the Buyer Portal and the BigCommerce checkout.

    Creates the V2 order (one digital "Invoice Payment" line at the total, status 11), the
    `payments_bigcommerce_sales_order` payment pointing at it (completed, so applied: open
    balances drop and a receipt is written), and schedules the B2B order record marked as an
    invoice order for the first invoice. Several invoices may be paid at once.
    """
    company = state.companies.get(company_id)
    if company is None:
        raise B2BError(404, "Company does not exist")
    customer = state.customers.get(customer_id)
    if customer is None or customer.company_id != company_id:
        raise B2BError(422, f"Customer {customer_id} does not buy for company {company_id}")
    currency, checked = _check_allocations(state, company_id, allocations)
    total = sum((amount for _, amount in checked), Decimal("0"))
    product = state.catalog.get(state.invoice_payment_product_id)
    cart_id = new_cart_id(state)
    transaction_id = f"{state.rng.getrandbits(40):012x}"
    invoice_ids = [invoice.id for invoice, _ in checked]
    order = place_order(
        state,
        customer_id=customer_id,
        billing_address=_billing_address(state, customer_id, company),
        lines=[
            LineSpec(
                name=INVOICE_PAYMENT_PRODUCT_NAME,
                quantity=1,
                price_ex_tax=total,
                price_inc_tax=total,
                product_id=product.id if product else 0,
                variant_id=product.variant_id if product else 0,
                sku=product.sku if product else "",
                type="digital",
            )
        ],
        now=now,
        status_id=11,
        kind="invoice payment",
        invoice_ids=invoice_ids,
        payment_method="Credit Card",
        cart_id=cart_id,
        payment_provider_id=transaction_id,
        config=config,
    )
    _new_payment(
        state,
        company_id=company_id,
        currency=currency,
        checked=checked,
        module_name=MODULE_BC_SALES_ORDER,
        module_data={
            "orderId": order.id,
            "cartId": cart_id,
            "transactions": [
                {
                    "type": "CreditCardTransaction",
                    "memo": f"Paid with BigCommerce order #{order.id}",
                    "gateway": "braintree",
                    "transactionId": transaction_id,
                    "authCode": f"{state.rng.randrange(1_000_000):06d}",
                    "event": "capture",
                    "card": {
                        "type": "visa",
                        "last4": "1111",
                        "expiryYear": now.year + 3,
                        "expiryMonth": 12,
                    },
                    "rawTransaction": None,
                }
            ],
        },
        processing_status=COMPLETED,
        now=now,
        payer_name=f"{customer.first_name} {customer.last_name}".strip(),
        payer_customer_id=str(company_id),
        memo=f"Invoice payment, order #{order.id}",
        channel_id=order.channel_id,
    )
    return order


@dataclass(slots=True)
class OfflinePaymentInput:
    """A parsed `POST /ip/payments/offline` (or `PUT .../offline/{id}`) body."""

    customer_id: int
    currency: str
    memo: str
    line_items: list[tuple[int, Decimal]]
    external_id: str | None = None
    external_customer_id: str | None = None
    payer_name: str = DEFAULT_OFFLINE_PAYER
    payer_customer_id: str | None = None
    processing_status: int | None = None
    channel_id: int = 1
    funding_status: int | None = None
    given: frozenset[str] = field(default_factory=frozenset)


def _offline_module_data(memo: str) -> dict[str, Any]:
    return {"transactions": [{"type": "OfflineTransaction", "memo": memo, "rawTransaction": None}]}


def create_offline_payment(state: StoreState, data: OfflinePaymentInput, now: datetime) -> Payment:
    """`POST /ip/payments/offline`: record a payment made outside the store (check, wire...)."""
    if data.customer_id not in state.companies:
        raise B2BError(422, f"Company {data.customer_id} does not exist")
    status = COMPLETED if data.processing_status is None else data.processing_status
    if status not in (1, 2, 3, 4):
        raise B2BError(422, "processingStatus must be 1, 2, 3 or 4")
    currency, checked = _check_allocations(state, data.customer_id, data.line_items)
    if data.currency.upper() != currency:
        raise B2BError(422, "Invalid currency code")
    # A payment recorded as refunded was completed first: it leaves both receipts.
    initial = COMPLETED if status == REFUNDED else status
    payment = _new_payment(
        state,
        company_id=data.customer_id,
        currency=currency,
        checked=checked,
        module_name=MODULE_OFFLINE,
        module_data=_offline_module_data(data.memo),
        processing_status=initial,
        now=now,
        payer_name=data.payer_name or DEFAULT_OFFLINE_PAYER,
        payer_customer_id=data.payer_customer_id or str(data.customer_id),
        memo=data.memo,
        external_id=data.external_id,
        external_customer_id=data.external_customer_id,
        channel_id=data.channel_id,
        funding_status=2 if data.funding_status is None else data.funding_status,
    )
    if status == REFUNDED:
        set_processing_status(state, payment, REFUNDED, now)
    return payment


def update_offline_payment(
    state: StoreState, payment: Payment, data: OfflinePaymentInput, now: datetime
) -> Payment:
    """`PUT /ip/payments/offline/{id}`: replace an offline payment's lines and details.

    An applied payment is taken off its invoices first (leaving a "Refund" receipt) and put back
    with the new lines; a status change must be one the payment allows.
    """
    if payment.module_name != MODULE_OFFLINE:
        raise B2BError(400, "Only offline payments can be updated.")
    if data.customer_id not in state.companies:
        raise B2BError(422, f"Company {data.customer_id} does not exist")
    status = payment.processing_status if data.processing_status is None else data.processing_status
    if status not in allowed_statuses(payment):
        raise B2BError(400, "The payment processing status is not allowed.")
    was_applied = bool(payment.applied_status)
    credit = {line.invoice_id: line.amount.value for line in payment.line_items if was_applied}
    currency, checked = _check_allocations(state, data.customer_id, data.line_items, credit)
    if data.currency.upper() != currency:
        raise B2BError(422, "Invalid currency code")
    _count_pending(state, payment, -1)
    if was_applied:
        _revert(state, payment, now)
    payment.customer_id = data.customer_id
    payment.total = _money(sum((a for _, a in checked), Decimal("0")), currency)
    payment.line_items = [
        PaymentLine(invoice.id, invoice.invoice_number, _money(amount, currency))
        for invoice, amount in checked
    ]
    payment.memo = data.memo
    payment.module_data = _offline_module_data(data.memo)
    if "externalId" in data.given:
        payment.external_id = data.external_id
    if "externalCustomerId" in data.given:
        payment.external_customer_id = data.external_customer_id
    if "payerName" in data.given:
        payment.payer_name = data.payer_name or DEFAULT_OFFLINE_PAYER
    if "payerCustomerId" in data.given:
        payment.payer_customer_id = data.payer_customer_id or str(data.customer_id)
    if data.funding_status is not None:
        payment.funding_status = data.funding_status
    payment.processing_status = status
    if payment.processing_status == REFUNDED:
        payment.applied_status = 0
    elif was_applied or payment.processing_status == COMPLETED:
        _apply(state, payment, now)
    payment.updated_at = max(now, payment.updated_at)
    _count_pending(state, payment, 1)
    return payment


def get_payment(state: StoreState, payment_id: int) -> Payment:
    """The payment, or 404 "Payment does not exist"."""
    payment = state.payments.get(payment_id)
    if payment is None:
        raise B2BError(404, "Payment does not exist")
    return payment


def set_processing_status(state: StoreState, payment: Payment, status: int, now: datetime) -> None:
    """`PUT /ip/payments/{id}/processing-status`, checked against `allowed_statuses`.

    Completing an unapplied payment applies it; refunding an applied one reverts it.
    """
    if status not in allowed_statuses(payment):
        raise B2BError(400, "The payment processing status is not allowed.")
    if status == payment.processing_status:
        return
    _count_pending(state, payment, -1)
    payment.processing_status = status
    _count_pending(state, payment, 1)
    if status == COMPLETED and not payment.applied_status:
        _apply(state, payment, now)
    elif status == REFUNDED and payment.applied_status:
        _revert(state, payment, now)
    payment.updated_at = max(now, payment.updated_at)


def run_operation(state: StoreState, payment: Payment, operation: int, now: datetime) -> None:
    """`POST /ip/payments/{id}/operations`: apply to or revert from invoice balances, or pull
    updates from the payment's BigCommerce order (a refunded or cancelled order refunds the
    payment)."""
    if operation not in allowed_operations(payment):
        raise B2BError(400, "The payment operation is not allowed.")
    if operation == OP_APPLY:
        _apply(state, payment, now)
    elif operation == OP_REVERT:
        _revert(state, payment, now)
    else:
        source = state.orders.get(int(payment.module_data.get("orderId", 0)))
        if (
            source is not None
            and source.status_id in ORDER_GONE_STATUSES
            and payment.processing_status == COMPLETED
        ):
            set_processing_status(state, payment, REFUNDED, now)
    payment.updated_at = max(now, payment.updated_at)


def delete_payment(state: StoreState, payment_id: int, now: datetime) -> None:
    """`DELETE /ip/payments/{id}`: an applied payment gives its amounts back first; its receipts
    go with it."""
    payment = get_payment(state, payment_id)
    if payment.applied_status:
        _revert(state, payment, now)
    for receipt_id in [r.id for r in state.receipts.values() if r.payment_id == payment_id]:
        del state.receipts[receipt_id]
    del state.payments[payment_id]
    _count_pending(state, payment, -1)


def payment_transactions(payment: Payment) -> list[dict[str, Any]]:
    """`GET /ip/payments/{id}/transactions`: the gateway's view of the payment."""
    rendered = []
    for transaction in payment.module_data.get("transactions", []):
        raw = {
            "status": "captured" if payment.processing_status == COMPLETED else "pending",
            "amount": str(payment.total.value),
            "currency": payment.total.code,
        }
        item = {k: v for k, v in transaction.items() if k not in ("memo", "rawTransaction")}
        item["rawTransaction"] = json.dumps(raw)
        rendered.append(item)
    return rendered


def get_receipt(state: StoreState, receipt_id: int) -> Receipt:
    """The receipt, or 404 "Receipt does not exist"."""
    receipt = state.receipts.get(receipt_id)
    if receipt is None:
        raise B2BError(404, "Receipt does not exist")
    return receipt


def delete_receipt(state: StoreState, receipt_id: int) -> None:
    """`DELETE /ip/receipts/{id}` (balances stay as they are)."""
    get_receipt(state, receipt_id)
    del state.receipts[receipt_id]


def delete_receipt_line(state: StoreState, receipt_id: int, line_id: int) -> None:
    """`DELETE /ip/receipts/{id}/lines/{lineId}`."""
    receipt = get_receipt(state, receipt_id)
    kept = [line for line in receipt.lines if line.id != line_id]
    if len(kept) == len(receipt.lines):
        raise B2BError(404, "Receipt line does not exist")
    receipt.lines = kept
