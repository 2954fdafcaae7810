"""Stored entities in the V2 Orders API's wire format (orders.v2.oas2.yml response schemas).

Pure functions: money as 4-decimal strings, dates as RFC 2822 in UTC, sub-resources as
`{url, resource}` links. `api_base` is the V2 base URL of the store as the client reached it
(`http://host:port/stores/{hash}/v2`), so every link a client follows works against the sandbox.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from b2bsync.sandbox.models import Address, Order, OrderProduct, Shipment, ShippingAddress
from b2bsync.sandbox.orders import (
    ORDER_STATUSES,
    custom_label,
    is_digital,
    items_shipped,
    items_total,
    subtotal_ex_tax,
    subtotal_inc_tax,
    total_ex_tax,
    total_inc_tax,
)
from b2bsync.sandbox.world import StoreState

_FOUR = Decimal("0.0001")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def money(value: Decimal) -> str:
    """`Decimal("336.32")` -> `"336.3200"`."""
    return str(value.quantize(_FOUR))


def rfc2822(moment: datetime | None) -> str:
    """An aware datetime as V2 renders it, always in UTC: `Tue, 20 Nov 2012 00:00:00 +0000`.

    None (e.g. an order not shipped yet) renders as "" like BigCommerce's `date_shipped`.
    """
    if moment is None:
        return ""
    utc = moment.utctimetuple()
    return (
        f"{_DAYS[utc.tm_wday]}, {utc.tm_mday:02d} {_MONTHS[utc.tm_mon - 1]} {utc.tm_year} "
        f"{utc.tm_hour:02d}:{utc.tm_min:02d}:{utc.tm_sec:02d} +0000"
    )


def link(api_base: str, resource: str) -> dict[str, str]:
    """A sub-resource reference `{url, resource}`."""
    return {"url": f"{api_base}{resource}", "resource": resource}


def render_address(address: Address) -> dict[str, Any]:
    """A billing or shipping address (billingAddress_Resp without form fields)."""
    return {
        "first_name": address.first_name,
        "last_name": address.last_name,
        "company": address.company,
        "street_1": address.street_1,
        "street_2": address.street_2,
        "city": address.city,
        "state": address.state,
        "zip": address.zip,
        "country": address.country,
        "country_iso2": address.country_iso2,
        "phone": address.phone,
        "email": address.email,
    }


def render_product(product: OrderProduct) -> dict[str, Any]:
    """One order line (`orderProducts`)."""
    tax = product.price_inc_tax - product.price_ex_tax
    quantity = product.quantity
    return {
        "id": product.id,
        "order_id": product.order_id,
        "product_id": product.product_id,
        "variant_id": product.variant_id,
        "order_pickup_method_id": 0,
        "order_address_id": product.order_address_id,
        "name": product.name,
        "name_customer": product.name,
        "name_merchant": product.name,
        "sku": product.sku,
        "upc": "",
        "type": product.type,
        "base_price": money(product.base_price),
        "price_ex_tax": money(product.price_ex_tax),
        "price_inc_tax": money(product.price_inc_tax),
        "price_tax": money(tax),
        "base_total": money(product.base_price * quantity),
        "total_ex_tax": money(product.price_ex_tax * quantity),
        "total_inc_tax": money(product.price_inc_tax * quantity),
        "total_tax": money(tax * quantity),
        "discounted_total_inc_tax": money(product.price_inc_tax * quantity),
        "weight": money(product.weight),
        "width": "0.0000",
        "height": "0.0000",
        "depth": "0.0000",
        "quantity": quantity,
        "base_cost_price": "0.0000",
        "cost_price_inc_tax": "0.0000",
        "cost_price_ex_tax": "0.0000",
        "cost_price_tax": "0.0000",
        "is_refunded": False,
        "quantity_refunded": 0,
        "refund_amount": "0.0000",
        "return_id": 0,
        "wrapping_id": 0,
        "wrapping_name": None,
        "base_wrapping_cost": "0.0000",
        "wrapping_cost_ex_tax": "0.0000",
        "wrapping_cost_inc_tax": "0.0000",
        "wrapping_cost_tax": "0.0000",
        "wrapping_message": "",
        "quantity_shipped": product.quantity_shipped,
        "event_name": None,
        "event_date": None,
        "fixed_shipping_cost": "0.0000",
        "ebay_item_id": "",
        "ebay_transaction_id": "",
        "option_set_id": None,
        "parent_order_product_id": None,
        "is_bundled_product": False,
        "bin_picking_number": "",
        "external_id": None,
        "brand": product.brand,
        "gift_certificate_id": None,
        "applied_discounts": [],
        "product_options": [],
        "configurable_fields": [],
    }


def _address_counts(order: Order, address: ShippingAddress) -> tuple[int, int]:
    lines = [p for p in order.products if p.order_address_id == address.id]
    return sum(p.quantity for p in lines), sum(p.quantity_shipped for p in lines)


def render_shipping_address(
    order: Order, address: ShippingAddress, api_base: str
) -> dict[str, Any]:
    """One shipping address of an order (`orderShippingAddress`)."""
    total, shipped = _address_counts(order, address)
    return {
        "id": address.id,
        "order_id": order.id,
        **render_address(address.address),
        "form_fields": [],
        "items_total": total,
        "items_shipped": shipped,
        "shipping_method": address.shipping_method,
        "base_cost": money(address.base_cost),
        "cost_ex_tax": money(address.cost_ex_tax),
        "cost_inc_tax": money(address.cost_inc_tax),
        "cost_tax": money(address.cost_inc_tax - address.cost_ex_tax),
        "cost_tax_class_id": 0,
        "base_handling_cost": "0.0000",
        "handling_cost_ex_tax": "0.0000",
        "handling_cost_inc_tax": "0.0000",
        "handling_cost_tax": "0.0000",
        "handling_cost_tax_class_id": 0,
        "shipping_zone_id": 1,
        "shipping_zone_name": "United States",
        "shipping_quotes": link(
            api_base, f"/orders/{order.id}/shipping_addresses/{address.id}/shipping_quotes"
        ),
    }


_PROVIDER_NAMES = {
    "": "",
    "auspost": "Australia Post",
    "canadapost": "Canada Post",
    "endicia": "Endicia",
    "usps": "USPS",
    "fedex": "FedEx",
    "royalmail": "Royal Mail",
    "ups": "UPS",
    "upsready": "UPS",
    "upsonline": "UPS",
    "shipperhq": "ShipperHQ",
}


def render_shipment(order: Order, shipment: Shipment) -> dict[str, Any]:
    """One shipment (`orderShipment`)."""
    address = next(
        (a.address for a in order.shipping_addresses if a.id == shipment.order_address_id),
        order.billing_address,
    )
    generated = ""
    if shipment.tracking_number and shipment.shipping_provider in ("ups", "upsready", "upsonline"):
        generated = f"https://www.ups.com/track?tracknum={shipment.tracking_number}"
    return {
        "id": shipment.id,
        "order_id": order.id,
        "customer_id": order.customer_id,
        "order_address_id": shipment.order_address_id,
        "date_created": rfc2822(shipment.date_created),
        "tracking_number": shipment.tracking_number,
        "shipping_method": shipment.shipping_method,
        "shipping_provider": shipment.shipping_provider,
        "shipping_provider_display_name": _PROVIDER_NAMES.get(
            shipment.shipping_provider, shipment.shipping_provider
        ),
        "tracking_carrier": shipment.tracking_carrier,
        "tracking_link": shipment.tracking_link,
        "generated_tracking_link": generated,
        "merchant_shipping_cost": money(shipment.merchant_shipping_cost),
        "comments": shipment.comments,
        "billing_address": render_address(order.billing_address),
        "shipping_address": render_address(address),
        "items": [
            {
                "order_product_id": item.order_product_id,
                "product_id": item.product_id,
                "quantity": item.quantity,
            }
            for item in shipment.items
        ],
    }


def _line_items(
    order: Order, products: list[OrderProduct], api_base: str, *, expanded: bool
) -> list[dict[str, Any]]:
    if expanded:
        return [render_product(p) for p in products]
    return [link(api_base, f"/orders/{order.id}/products/{p.id}") for p in products]


def render_consignments(order: Order, api_base: str, *, line_items: bool) -> dict[str, Any]:
    """The order's consignments object (`orderConsignment_Get`): one shipping consignment per
    shipping address, digital lines as a download; line items as links unless `line_items`."""
    shipping = []
    for address in order.shipping_addresses:
        products = [p for p in order.products if p.order_address_id == address.id]
        total, shipped = _address_counts(order, address)
        shipping.append(
            {
                "id": address.id,
                **render_address(address.address),
                "form_fields": [],
                "shipping_method": address.shipping_method,
                "line_items": _line_items(order, products, api_base, expanded=line_items),
                "items_total": total,
                "items_shipped": shipped,
                "base_cost": float(address.base_cost),
                "cost_ex_tax": float(address.cost_ex_tax),
                "cost_inc_tax": float(address.cost_inc_tax),
                "cost_tax": float(address.cost_inc_tax - address.cost_ex_tax),
                "cost_tax_class_id": 0,
                "base_handling_cost": 0,
                "handling_cost_ex_tax": 0,
                "handling_cost_inc_tax": 0,
                "handling_cost_tax": 0,
                "handling_cost_tax_class_id": 0,
                "shipping_zone_id": 1,
                "shipping_zone_name": "United States",
                "shipping_quotes": link(
                    api_base,
                    f"/orders/{order.id}/consignments/shipping/{address.id}/shipping_quotes",
                ),
            }
        )
    digital = [p for p in order.products if p.type == "digital"]
    downloads = (
        [
            {
                "recipient_email": order.billing_address.email,
                "line_items": _line_items(order, digital, api_base, expanded=line_items),
            }
        ]
        if digital
        else []
    )
    return {
        "pickups": [],
        "shipping": shipping,
        "downloads": downloads,
        "email": {"gift_certificates": []},
    }


def render_order(
    state: StoreState,
    order: Order,
    api_base: str,
    *,
    consignments: bool = False,
    line_items: bool = False,
    fees: bool = False,
) -> dict[str, Any]:
    """One order (`order_Resp`) with `custom_status` and sub-resource links.

    `consignments` expands them (include=consignments&consignment_structure=object),
    `line_items` also expands their line items, `fees` inlines the (always empty) fee list.
    """
    sub_ex, sub_inc = subtotal_ex_tax(order), subtotal_inc_tax(order)
    tot_ex, tot_inc = total_ex_tax(order), total_inc_tax(order)
    ship_ex, ship_inc = order.shipping_cost_ex_tax, order.shipping_cost_inc_tax
    oid = order.id
    body: dict[str, Any] = {
        "id": oid,
        "customer_id": order.customer_id,
        "date_created": rfc2822(order.date_created),
        "date_modified": rfc2822(order.date_modified),
        "date_shipped": rfc2822(order.date_shipped),
        "status_id": order.status_id,
        "status": ORDER_STATUSES[order.status_id].name,
        "custom_status": custom_label(state, order.status_id),
        "subtotal_ex_tax": money(sub_ex),
        "subtotal_inc_tax": money(sub_inc),
        "subtotal_tax": money(sub_inc - sub_ex),
        "base_shipping_cost": money(ship_inc),
        "shipping_cost_ex_tax": money(ship_ex),
        "shipping_cost_inc_tax": money(ship_inc),
        "shipping_cost_tax": money(ship_inc - ship_ex),
        "shipping_cost_tax_class_id": 0,
        "base_handling_cost": "0.0000",
        "handling_cost_ex_tax": "0.0000",
        "handling_cost_inc_tax": "0.0000",
        "handling_cost_tax": "0.0000",
        "handling_cost_tax_class_id": 0,
        "base_wrapping_cost": "0.0000",
        "wrapping_cost_ex_tax": "0.0000",
        "wrapping_cost_inc_tax": "0.0000",
        "wrapping_cost_tax": "0.0000",
        "wrapping_cost_tax_class_id": 0,
        "total_ex_tax": money(tot_ex),
        "total_inc_tax": money(tot_inc),
        "total_tax": money(tot_inc - tot_ex),
        "is_tax_inclusive_pricing": False,
        "items_total": items_total(order),
        "items_shipped": items_shipped(order),
        "payment_method": order.payment_method,
        "payment_provider_id": order.payment_provider_id,
        "payment_status": order.payment_status,
        "refunded_amount": money(order.refunded_amount),
        "order_is_digital": is_digital(order),
        "store_credit_amount": "0.0000",
        "gift_certificate_amount": "0.0000",
        "ip_address": order.ip_address,
        "ip_address_v6": "",
        "geoip_country": "United States" if order.ip_address else "",
        "geoip_country_iso2": "US" if order.ip_address else "",
        "currency_id": 1,
        "currency_code": order.currency_code,
        "currency_exchange_rate": "1.0000000000",
        "default_currency_id": 1,
        "default_currency_code": order.currency_code,
        "store_default_currency_code": order.currency_code,
        "store_default_to_transactional_exchange_rate": "1.0000000000",
        "staff_notes": order.staff_notes,
        "customer_message": order.customer_message,
        "discount_amount": money(order.discount_amount),
        "coupon_discount": "0.0000",
        "shipping_address_count": len(order.shipping_addresses),
        "is_deleted": order.is_deleted,
        "ebay_order_id": "0",
        "cart_id": order.cart_id,
        "billing_address": {**render_address(order.billing_address), "form_fields": []},
        "is_email_opt_in": False,
        "credit_card_type": None,
        "order_source": order.order_source,
        "channel_id": order.channel_id,
        "external_source": order.external_source,
        "external_id": order.external_id,
        "external_merchant_id": None,
        "external_order_id": order.external_order_id,
        "tax_provider_id": "" if order.order_source == "external" else "BasicTaxProvider",
        "customer_locale": "en",
        "products": link(api_base, f"/orders/{oid}/products"),
        "shipping_addresses": link(api_base, f"/orders/{oid}/shippingaddresses"),
        "coupons": link(api_base, f"/orders/{oid}/coupons"),
    }
    body["consignments"] = (
        render_consignments(order, api_base, line_items=line_items)
        if consignments
        else link(api_base, f"/orders/{oid}/consignments")
    )
    body["fees"] = [] if fees else link(api_base, f"/orders/{oid}/fees")
    return body


def render_status(state: StoreState, status_id: int) -> dict[str, Any]:
    """One order status (`orderStatus_Base` plus the `order` sort key of the examples)."""
    status = ORDER_STATUSES[status_id]
    return {
        "id": status.id,
        "name": status.name,
        "system_label": status.name,
        "custom_label": custom_label(state, status.id),
        "system_description": status.description,
        "order": status.sort_order,
    }


def render_count(state: StoreState, counts: dict[int, int]) -> dict[str, Any]:
    """`GET /orders/count`: every status with its count, in control-panel order, and the total."""
    statuses = []
    for status in sorted(ORDER_STATUSES.values(), key=lambda s: s.sort_order):
        entry = render_status(state, status.id)
        del entry["order"]
        entry["count"] = counts.get(status.id, 0)
        entry["sort_order"] = status.sort_order
        statuses.append(entry)
    return {"statuses": statuses, "count": sum(counts.values())}
