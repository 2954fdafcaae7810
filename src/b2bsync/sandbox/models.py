"""The sandbox's stored entities: one plain dataclass per thing a BigCommerce store keeps.

They hold facts (Decimal money, aware UTC datetimes); each API family's routes render them in
that family's wire format (RFC 2822 + 4-decimal strings for V2, ISO 8601 for V3, unix seconds for
B2B Edition). Fields prefixed `truth_` are the sandbox's ground truth, never rendered by the
BigCommerce API, only by `/__sandbox/orders`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(slots=True)
class Customer:
    id: int
    first_name: str
    last_name: str
    email: str
    company_id: int | None = None
    phone: str = ""


@dataclass(slots=True)
class CatalogProduct:
    id: int
    name: str
    sku: str
    price: Decimal
    variant_id: int
    brand: str = ""
    is_digital: bool = False
    weight: Decimal = Decimal("1")


@dataclass(slots=True)
class Address:
    first_name: str
    last_name: str
    company: str
    street_1: str
    street_2: str
    city: str
    state: str
    zip: str
    country: str
    country_iso2: str
    phone: str
    email: str


@dataclass(slots=True)
class OrderProduct:
    id: int
    order_id: int
    product_id: int
    variant_id: int
    order_address_id: int
    name: str
    sku: str
    type: str  # physical | digital | giftcertificate
    base_price: Decimal
    price_ex_tax: Decimal
    price_inc_tax: Decimal
    quantity: int
    quantity_shipped: int = 0
    brand: str = ""
    weight: Decimal = Decimal("0")


@dataclass(slots=True)
class ShippingAddress:
    id: int
    order_id: int
    address: Address
    shipping_method: str = "Flat Rate"
    base_cost: Decimal = Decimal("0")
    cost_ex_tax: Decimal = Decimal("0")
    cost_inc_tax: Decimal = Decimal("0")


@dataclass(slots=True)
class ShipmentItem:
    order_product_id: int
    product_id: int
    quantity: int


@dataclass(slots=True)
class Shipment:
    id: int
    order_id: int
    order_address_id: int
    date_created: datetime
    items: list[ShipmentItem]
    tracking_number: str = ""
    tracking_link: str = ""
    shipping_provider: str = ""
    tracking_carrier: str = ""
    shipping_method: str = ""
    merchant_shipping_cost: Decimal = Decimal("0")
    comments: str = ""


@dataclass(slots=True)
class Order:
    id: int
    customer_id: int
    date_created: datetime
    date_modified: datetime
    status_id: int
    billing_address: Address
    products: list[OrderProduct]
    shipping_addresses: list[ShippingAddress]
    shipments: list[Shipment] = field(default_factory=list)
    channel_id: int = 1
    currency_code: str = "USD"
    payment_method: str = "Credit Card"
    payment_provider_id: str = ""
    payment_status: str = "captured"
    staff_notes: str = ""
    customer_message: str = ""
    external_source: str | None = None
    external_id: str | None = None
    external_order_id: str = ""
    cart_id: str = ""
    discount_amount: Decimal = Decimal("0")
    shipping_cost_ex_tax: Decimal = Decimal("0")
    shipping_cost_inc_tax: Decimal = Decimal("0")
    refunded_amount: Decimal = Decimal("0")
    order_source: str = "www"
    ip_address: str = ""
    date_shipped: datetime | None = None
    is_deleted: bool = False
    truth_kind: str = "online order"
    truth_invoice_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Metafield:
    id: int
    resource_id: int
    key: str
    value: str
    namespace: str
    permission_set: str
    date_created: datetime
    date_modified: datetime
    description: str = ""
    resource_type: str = "order"
    owner_client_id: str = ""


@dataclass(slots=True)
class Hook:
    id: int
    client_id: str
    store_hash: str
    scope: str
    destination: str
    headers: dict[str, str] | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
    deactivated: bool = False


@dataclass(slots=True)
class ExtraField:
    field_name: str
    field_value: str


@dataclass(slots=True)
class Company:
    id: int
    name: str
    email: str
    phone: str
    status: int  # 0 pending, 1 approved, 2 rejected, 3 inactive
    bc_group_id: int
    bc_group_name: str
    address_line1: str
    city: str
    state: str
    zip_code: str
    country: str
    created_at: datetime
    updated_at: datetime
    uuid: str = ""
    extra_fields: list[ExtraField] = field(default_factory=list)


@dataclass(slots=True)
class B2BOrder:
    id: int
    bc_order_id: int
    company_id: int
    customer_id: int
    created_at: datetime
    updated_at: datetime
    po_number: str = ""
    extra_fields: list[ExtraField] = field(default_factory=list)
    is_invoice_order: bool = False
    invoice_id: int | None = None
    is_archived: bool = False


@dataclass(slots=True)
class Money:
    code: str
    value: Decimal


@dataclass(slots=True)
class Invoice:
    id: int
    invoice_number: str
    customer_id: int  # the B2B company id
    original_balance: Money
    open_balance: Money
    created_at: datetime
    updated_at: datetime
    due_date: datetime
    type: str = "Invoice"
    status: int = 0  # 0 open, 1 partially paid, 2 paid
    order_number: str = ""
    purchase_order_number: str = ""
    external_id: str | None = None
    external_customer_id: str | None = None
    source: int = 0
    channel_id: int = 1
    details: dict[str, Any] = field(default_factory=dict)
    terms_conditions: str = ""
    external_pdf_url: str = ""
    extra_fields: list[ExtraField] = field(default_factory=list)
    pending_payment_count: int = 0


@dataclass(slots=True)
class PaymentLine:
    invoice_id: int
    invoice_number: str
    amount: Money


@dataclass(slots=True)
class Payment:
    id: int
    customer_id: int  # the B2B company id
    created_at: datetime
    updated_at: datetime
    module_name: str  # payments_bigcommerce_sales_order | payments_offline
    module_data: dict[str, Any]
    processing_status: int  # 0 incomplete .. 4 refunded
    total: Money
    line_items: list[PaymentLine]
    payer_name: str = ""
    payer_customer_id: str = ""
    memo: str = ""
    external_id: str | None = None
    external_customer_id: str | None = None
    applied_status: int = 1
    funding_status: int = 2
    channel_id: int = 1


@dataclass(slots=True)
class ReceiptLine:
    id: int
    receipt_id: int
    invoice_id: int
    invoice_number: str
    amount: Money
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class Receipt:
    id: int
    payment_id: int
    customer_id: int
    created_at: datetime
    updated_at: datetime
    total: Money
    transaction_type: str  # Paid | Refund
    payment_type: str
    reference_number: str
    payer_name: str
    lines: list[ReceiptLine] = field(default_factory=list)
    payer_customer_id: str = ""
    memo: str = ""
    external_id: str | None = None
    external_customer_id: str | None = None
