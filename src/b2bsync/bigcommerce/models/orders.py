"""V2 order models (`/v2/orders` and sub-resources, `/v2/order_statuses`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field

from b2bsync.bigcommerce._wire import (
    LenientInt,
    Money,
    OptionalDatetime,
    OptionalInt,
    Rfc2822Datetime,
)
from b2bsync.bigcommerce.models.base import WireModel

__all__ = [
    "Address",
    "Order",
    "OrderCount",
    "OrderProduct",
    "OrderShippingAddress",
    "OrderStatus",
    "Shipment",
    "ShipmentItem",
    "StatusCount",
]

ZERO = Decimal("0")


class Address(WireModel):
    """A billing address (V2 `billing_address`)."""

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
    form_fields: list[Any] = Field(default_factory=list)


class Order(WireModel):
    """A V2 order (`order_RespOnly` + `order_Shared`); money as Decimal, dates as UTC."""

    id: LenientInt
    customer_id: LenientInt = 0
    date_created: Rfc2822Datetime
    date_modified: Rfc2822Datetime
    date_shipped: OptionalDatetime = None
    status_id: LenientInt
    status: str = ""
    custom_status: str = ""
    subtotal_ex_tax: Money = ZERO
    subtotal_inc_tax: Money = ZERO
    subtotal_tax: Money = ZERO
    base_shipping_cost: Money = ZERO
    shipping_cost_ex_tax: Money = ZERO
    shipping_cost_inc_tax: Money = ZERO
    handling_cost_ex_tax: Money = ZERO
    handling_cost_inc_tax: Money = ZERO
    total_ex_tax: Money = ZERO
    total_inc_tax: Money = ZERO
    total_tax: Money = ZERO
    discount_amount: Money = ZERO
    coupon_discount: Money = ZERO
    refunded_amount: Money = ZERO
    store_credit_amount: Money = ZERO
    gift_certificate_amount: Money = ZERO
    items_total: LenientInt = 0
    items_shipped: LenientInt = 0
    payment_method: str = ""
    payment_provider_id: str | None = None
    payment_status: str = ""
    order_is_digital: bool = False
    currency_code: str = ""
    default_currency_code: str = ""
    currency_exchange_rate: Money = Decimal("1")
    staff_notes: str = ""
    customer_message: str = ""
    is_deleted: bool = False
    cart_id: str | None = None
    channel_id: LenientInt = 1
    order_source: str = ""
    external_source: str | None = None
    external_id: str | None = None
    external_order_id: str | None = None
    billing_address: Address = Field(default_factory=Address)
    products: Any = None
    shipping_addresses: Any = None
    coupons: Any = None
    consignments: Any = None
    fees: Any = None


class OrderProduct(WireModel):
    """A line of an order (`GET /orders/{id}/products`); `id` is the `order_product_id`."""

    id: LenientInt
    order_id: LenientInt
    product_id: LenientInt = 0
    variant_id: LenientInt = 0
    order_address_id: LenientInt = 0
    name: str = ""
    sku: str = ""
    type: str = "physical"
    base_price: Money = ZERO
    price_ex_tax: Money = ZERO
    price_inc_tax: Money = ZERO
    price_tax: Money = ZERO
    total_ex_tax: Money = ZERO
    total_inc_tax: Money = ZERO
    total_tax: Money = ZERO
    quantity: LenientInt = 0
    quantity_shipped: LenientInt = 0
    quantity_refunded: LenientInt = 0
    is_refunded: bool = False
    product_options: list[Any] = Field(default_factory=list)
    applied_discounts: list[Any] = Field(default_factory=list)


class OrderShippingAddress(Address):
    """A shipping address of an order; its `id` is the `order_address_id` of shipments."""

    id: LenientInt
    order_id: LenientInt
    items_total: LenientInt = 0
    items_shipped: LenientInt = 0
    shipping_method: str = ""
    base_cost: Money = ZERO
    cost_ex_tax: Money = ZERO
    cost_inc_tax: Money = ZERO


class ShipmentItem(WireModel):
    """One shipped line."""

    order_product_id: LenientInt
    product_id: LenientInt = 0
    quantity: LenientInt


class Shipment(WireModel):
    """A shipment of an order."""

    id: LenientInt
    order_id: LenientInt
    customer_id: LenientInt = 0
    order_address_id: LenientInt
    date_created: Rfc2822Datetime
    tracking_number: str = ""
    tracking_link: str = ""
    shipping_provider: str = ""
    tracking_carrier: str = ""
    shipping_method: str = ""
    comments: str = ""
    items: list[ShipmentItem] = Field(default_factory=list)


class OrderStatus(WireModel):
    """An order status with the merchant's label (`/order_statuses`)."""

    id: LenientInt
    name: str
    system_label: str = ""
    custom_label: str = ""
    system_description: str = ""
    order: OptionalInt = None


class StatusCount(WireModel):
    """How many orders have one status (`/orders/count`)."""

    id: LenientInt
    name: str = ""
    count: LenientInt = 0


class OrderCount(WireModel):
    """`GET /orders/count`: the total and the count per status."""

    count: LenientInt
    statuses: list[StatusCount] = Field(default_factory=list)
