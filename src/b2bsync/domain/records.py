"""The canonical order record destinations receive, independent of BigCommerce's wire shapes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from b2bsync.domain.order_type import OrderType
from b2bsync.domain.origin import OrderOrigin


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Address(_Frozen):
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    street_1: str = ""
    street_2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    country_iso2: str = ""
    phone: str = ""
    email: str = ""


class LineItem(_Frozen):
    id: int
    product_id: int
    variant_id: int | None = None
    sku: str = ""
    name: str
    type: str = "physical"
    quantity: int
    quantity_shipped: int = 0
    price_ex_tax: Decimal
    price_inc_tax: Decimal
    total_ex_tax: Decimal
    total_inc_tax: Decimal


class InvoiceRole(StrEnum):
    """How an invoice relates to the order that carries the link."""

    PAID_BY_ORDER = "paid_by_order"
    """The order is an invoice payment and settles (part of) this invoice."""
    CREATED_FROM_ORDER = "created_from_order"
    """The order is an online order and this invoice bills it."""


class InvoiceLink(_Frozen):
    invoice_id: int
    invoice_number: str = ""
    role: InvoiceRole
    amount: Decimal | None = None
    """For invoice payments: the amount this order applied to the invoice."""
    currency: str = ""
    open_balance: Decimal | None = None
    """The invoice's open balance as last seen."""


class B2BInfo(_Frozen):
    company_id: int
    company_name: str = ""
    b2b_order_id: int | None = None
    po_number: str = ""
    extra_fields: dict[str, str] = {}
    payment_id: int | None = None
    """For invoice payments: the Invoice Portal payment record this order created."""


class OrderRecord(_Frozen):
    """One order as b2bsync understands it; a new ledger version whenever its content changes."""

    store: str
    order_id: int
    order_type: OrderType
    status_id: int
    status: str = ""
    is_archived: bool = False
    date_created: datetime
    date_modified: datetime
    customer_id: int = 0
    channel_id: int = 1
    currency: str = ""
    subtotal_ex_tax: Decimal = Decimal("0")
    subtotal_inc_tax: Decimal = Decimal("0")
    total_ex_tax: Decimal = Decimal("0")
    total_inc_tax: Decimal = Decimal("0")
    total_tax: Decimal = Decimal("0")
    payment_method: str = ""
    payment_status: str = ""
    external_order_id: str = ""
    external_source: str = ""
    origin: OrderOrigin = OrderOrigin.STORE
    """Where the order came from; routing keeps an ERP's own pushed orders from it."""
    customer_message: str = ""
    staff_notes: str = ""
    billing_address: Address = Address()
    shipping_addresses: tuple[Address, ...] = ()
    line_items: tuple[LineItem, ...] = ()
    b2b: B2BInfo | None = None
    invoices: tuple[InvoiceLink, ...] = ()
