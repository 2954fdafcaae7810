"""B2B Edition models (`/api/v3/io`): companies, orders, invoices, payments, receipts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import AliasChoices, Field

from b2bsync.bigcommerce._wire import (
    LenientInt,
    Money,
    OptionalDatetime,
    OptionalInt,
    OptionalMoney,
)
from b2bsync.bigcommerce.models.base import B2BModel

__all__ = [
    "Amount",
    "B2BOrder",
    "B2BOrderProduct",
    "Company",
    "ExtraField",
    "ExtraFieldConfig",
    "Invoice",
    "InvoiceCreated",
    "Payment",
    "PaymentLine",
    "PaymentOperations",
    "Receipt",
    "ReceiptLine",
]


class Amount(B2BModel):
    """`{code, value}`; the value is a string in responses and a number in some requests."""

    code: str = ""
    value: Money = Decimal("0")


class ExtraField(B2BModel):
    """An extra field value on an order, company or invoice."""

    field_name: str
    field_value: str | None = None


class Company(B2BModel):
    """A B2B Edition company (`createdAt`/`updatedAt` are unix seconds as strings)."""

    company_id: LenientInt = Field(validation_alias=AliasChoices("companyId", "id"))
    company_name: str = ""
    company_email: str = ""
    company_phone: str = ""
    company_status: OptionalInt = None
    bc_group_id: OptionalInt = None
    bc_group_name: str = ""
    uuid: str | None = None
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    country: str = ""
    extra_fields: list[ExtraField] = Field(default_factory=list)
    created_at: OptionalDatetime = None
    updated_at: OptionalDatetime = None


class B2BOrder(B2BModel):
    """A B2B Edition order record (`orderData_ALL`; the detail adds the invoice fields)."""

    id: OptionalInt = None
    bc_order_id: LenientInt
    company_id: OptionalInt = None
    customer_id: OptionalInt = None
    po_number: str = ""
    status: str = ""
    custom_status: str = ""
    status_code: OptionalInt = None
    total_inc_tax: OptionalMoney = None
    currency_code: str = ""
    cart_id: str | None = None
    items: OptionalInt = None
    is_archived: bool = False
    channel_id: OptionalInt = None
    extra_fields: list[ExtraField] = Field(default_factory=list)
    is_invoice_order: OptionalInt = None
    invoice_id: OptionalInt = None
    invoice_number: str | None = None
    invoice_status: OptionalInt = None
    created_at: OptionalDatetime = None
    updated_at: OptionalDatetime = None


class B2BOrderProduct(B2BModel):
    """A line of a B2B order (no prices; those come from V2)."""

    id: OptionalInt = None
    product_id: OptionalInt = None
    product_name: str = ""
    variant_sku: str = Field(default="", validation_alias=AliasChoices("variantSKU", "variantSku"))
    variant_id: OptionalInt = None
    product_brand_name: str | None = None
    quantity: LenientInt = 0
    options: list[Any] = Field(default_factory=list)
    created_at: OptionalDatetime = None
    updated_at: OptionalDatetime = None


class ExtraFieldConfig(B2BModel):
    """The definition of an extra field (orders or invoices)."""

    id: OptionalInt = None
    uuid: str | None = None
    field_name: str
    field_type: OptionalInt = None
    is_required: bool = False
    is_unique: bool = False
    visible_to_enduser: bool = False
    config_type: OptionalInt = None
    default_value: str | None = None
    label_name: str = ""
    maximum_length: OptionalInt = None
    list_of_values: list[Any] | None = Field(
        default=None, validation_alias=AliasChoices("listOfValues", "listOfValue")
    )
    """Dropdown choices: order extra fields name them `listOfValues`, invoice extra fields
    `listOfValue`."""


class Invoice(B2BModel):
    """An invoice of the invoice portal; `customer_id` is the B2B company id."""

    id: LenientInt
    invoice_number: str = ""
    type: str = ""
    due_date: OptionalDatetime = None
    status: OptionalInt = None
    order_number: str | None = None
    purchase_order_number: str | None = None
    customer_id: OptionalInt = None
    customer_name: str = ""
    external_id: str | None = None
    external_customer_id: str | None = None
    source: OptionalInt = None
    is_pending_payment: OptionalInt = None
    original_balance: Amount = Field(default_factory=Amount)
    open_balance: Amount = Field(default_factory=Amount)
    channel_id: OptionalInt = None
    details: dict[str, Any] | None = None
    extra_fields: list[ExtraField] = Field(default_factory=list)
    created_at: OptionalDatetime = None
    updated_at: OptionalDatetime = None


class InvoiceCreated(B2BModel):
    """`POST /ip/orders/{orderId}/invoices`: the new invoice's id and number."""

    invoice_id: LenientInt
    invoice_number: str = ""


class PaymentLine(B2BModel):
    """How much of a payment went to one invoice."""

    payment_id: OptionalInt = None
    invoice_id: LenientInt
    invoice_number: str | None = None
    amount: Amount = Field(default_factory=Amount)


class Payment(B2BModel):
    """An invoice payment. For checkout payments (`payments_bigcommerce_sales_order`)
    `module_data` holds the BigCommerce `orderId` and `cartId`."""

    id: LenientInt
    customer_id: OptionalInt = None
    customer_name: str = ""
    external_id: str | None = None
    external_customer_id: str | None = None
    payer_name: str = ""
    payer_customer_id: str | None = None
    module_name: str = ""
    module_data: dict[str, Any] = Field(default_factory=dict)
    processing_status: OptionalInt = None
    applied_status: OptionalInt = None
    funding_status: OptionalInt = None
    total: Amount = Field(default_factory=Amount)
    line_items: list[PaymentLine] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    allowed_operations: list[Any] = Field(default_factory=list)
    allowed_statuses: list[Any] = Field(default_factory=list)
    channel_id: OptionalInt = None
    created_at: OptionalDatetime = None
    updated_at: OptionalDatetime = None

    @property
    def bc_order_id(self) -> int | None:
        """The BigCommerce order that paid this, for checkout payments."""
        value = self.module_data.get("orderId")
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            return None


class PaymentOperations(B2BModel):
    """What can be done to a payment now."""

    allowed_operations: list[Any] = Field(default_factory=list)
    allowed_statuses: list[Any] = Field(default_factory=list)


class Receipt(B2BModel):
    """A receipt of a payment."""

    id: LenientInt
    customer_id: OptionalInt = None
    external_id: str | None = None
    external_customer_id: str | None = None
    payer_name: str = ""
    payer_customer_id: str | None = None
    transaction_type: str = ""
    payment_type: str = ""
    reference_number: str | None = None
    payment_id: OptionalInt = None
    total: Amount = Field(default_factory=Amount)
    details: dict[str, Any] = Field(default_factory=dict)
    created_at: OptionalDatetime = None
    updated_at: OptionalDatetime = None


class ReceiptLine(B2BModel):
    """One invoice's share of a receipt."""

    id: LenientInt
    receipt_id: OptionalInt = None
    invoice_id: OptionalInt = None
    invoice_number: str | None = None
    payment_id: OptionalInt = None
    customer_id: OptionalInt = None
    amount: Amount = Field(default_factory=Amount)
    payment_status: OptionalInt = None
    payment_type: str = ""
    reference_number: str | None = None
    transaction_type: str = ""
    created_at: OptionalDatetime = None
    updated_at: OptionalDatetime = None
