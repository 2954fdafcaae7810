"""V2 order services of the sandbox: placing, changing, archiving and shipping orders.

No HTTP here: the V2 routes, the B2B Edition services, the seed and the simulator all change
orders through these functions so totals, statuses, `date_modified` and webhook events stay
consistent whoever acts. Invalid requests raise `V2Error`, which the routes turn into V2
error arrays.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from b2bsync.sandbox.config import DelayRange, SandboxConfig
from b2bsync.sandbox.errors import V2Error
from b2bsync.sandbox.models import (
    Address,
    Order,
    OrderProduct,
    Shipment,
    ShipmentItem,
    ShippingAddress,
)
from b2bsync.sandbox.world import StoreState

ZERO = Decimal("0")

INCOMPLETE = 0
PENDING = 1
SHIPPED = 2
PARTIALLY_SHIPPED = 3
REFUNDED = 4
PARTIALLY_REFUNDED = 14


@dataclass(frozen=True, slots=True)
class OrderStatus:
    """One of the store's fixed order statuses (orders.v2.oas2.yml `/order_statuses`)."""

    id: int
    name: str
    description: str
    sort_order: int


ORDER_STATUSES: dict[int, OrderStatus] = {
    status.id: status
    for status in (
        OrderStatus(
            0,
            "Incomplete",
            "An incomplete order happens when a shopper reached the payment page, but did not "
            "complete the transaction.",
            0,
        ),
        OrderStatus(
            1, "Pending", "Customer started the checkout process, but did not complete it.", 1
        ),
        OrderStatus(
            2,
            "Shipped",
            "Order has been shipped, but receipt has not been confirmed; seller has used the "
            "Ship Items action.",
            8,
        ),
        OrderStatus(
            3,
            "Partially Shipped",
            "Only some items in the order have been shipped, due to some products being "
            "pre-order only or other reasons.",
            6,
        ),
        OrderStatus(4, "Refunded", "Seller has used the Refund action.", 11),
        OrderStatus(
            5,
            "Cancelled",
            "Seller has cancelled an order, due to a stock inconsistency or other reasons.",
            9,
        ),
        OrderStatus(
            6,
            "Declined",
            "Seller has marked the order as declined for lack of manual payment, or other reasons.",
            10,
        ),
        OrderStatus(
            7,
            "Awaiting Payment",
            "Customer has completed checkout process, but payment has yet to be confirmed.",
            2,
        ),
        OrderStatus(
            8,
            "Awaiting Pickup",
            "Order has been pulled, and is awaiting customer pickup from a seller-specified "
            "location.",
            5,
        ),
        OrderStatus(
            9,
            "Awaiting Shipment",
            "Order has been pulled and packaged, and is awaiting collection from a shipping "
            "provider.",
            4,
        ),
        OrderStatus(
            10,
            "Completed",
            "Client has paid for their digital product and their file(s) are available for "
            "download.",
            7,
        ),
        OrderStatus(
            11,
            "Awaiting Fulfillment",
            "Customer has completed the checkout process and payment has been confirmed.",
            3,
        ),
        OrderStatus(
            12,
            "Manual Verification Required",
            "Order is on hold while some aspect needs to be manually confirmed.",
            13,
        ),
        OrderStatus(
            13,
            "Disputed",
            "Customer has initiated a dispute resolution process for the PayPal transaction "
            "that paid for the order.",
            12,
        ),
        OrderStatus(14, "Partially Refunded", "Seller has partially refunded the order.", 14),
    )
}

DEFAULT_CUSTOM_LABELS: dict[int, str] = {11: "Ready to pick", 9: "Packed - awaiting carrier"}
"""Labels the seeded merchant renamed in the control panel (shown as `custom_status`)."""


def custom_label(state: StoreState, status_id: int) -> str:
    """The merchant's label of a status, or its system name when they kept it."""
    return state.order_status_labels.get(status_id, ORDER_STATUSES[status_id].name)


@dataclass(frozen=True, slots=True)
class LineSpec:
    """One line of a new order: a catalog product (`product_id` > 0) or a custom product."""

    name: str
    quantity: int
    price_ex_tax: Decimal
    price_inc_tax: Decimal
    product_id: int = 0
    variant_id: int = 0
    sku: str = ""
    type: str = "physical"


# --- totals ---------------------------------------------------------------------------------


def subtotal_ex_tax(order: Order) -> Decimal:
    """Sum of the lines excluding tax."""
    return sum((p.price_ex_tax * p.quantity for p in order.products), ZERO)


def subtotal_inc_tax(order: Order) -> Decimal:
    """Sum of the lines including tax."""
    return sum((p.price_inc_tax * p.quantity for p in order.products), ZERO)


def total_ex_tax(order: Order) -> Decimal:
    """Grand total excluding tax: lines plus shipping minus the order discount."""
    return subtotal_ex_tax(order) + order.shipping_cost_ex_tax - order.discount_amount


def total_inc_tax(order: Order) -> Decimal:
    """Grand total including tax: lines plus shipping minus the order discount."""
    return subtotal_inc_tax(order) + order.shipping_cost_inc_tax - order.discount_amount


def items_total(order: Order) -> int:
    """Number of items (sum of quantities) in the order."""
    return sum(p.quantity for p in order.products)


def items_shipped(order: Order) -> int:
    """Number of items already shipped."""
    return sum(p.quantity_shipped for p in order.products)


def is_digital(order: Order) -> bool:
    """True when nothing in the order needs shipping."""
    return all(p.type != "physical" for p in order.products)


# --- placing orders -------------------------------------------------------------------------


def _delay(state: StoreState, delay: DelayRange) -> timedelta:
    return timedelta(seconds=state.rng.uniform(delay.low, delay.high))


def new_cart_id(state: StoreState) -> str:
    """A storefront cart id (UUID 4) drawn from the store's rng, so seeded worlds repeat."""
    return str(uuid.UUID(int=state.rng.getrandbits(128), version=4))


def _set_status(state: StoreState, order: Order, status_id: int, now: datetime) -> None:
    previous = order.status_id
    if previous == status_id:
        return
    order.status_id = status_id
    state.emit(
        "store/order/statusUpdated",
        {
            "type": "order",
            "id": order.id,
            "status": {"previous_status_id": previous, "new_status_id": status_id},
        },
        now,
    )


def place_order(
    state: StoreState,
    *,
    customer_id: int,
    billing_address: Address,
    lines: Sequence[LineSpec],
    now: datetime,
    status_id: int = 11,
    kind: str = "online order",
    invoice_ids: Sequence[int] = (),
    payment_method: str = "Credit Card",
    channel_id: int = 1,
    shipping_address: Address | None = None,
    cart_id: str | None = None,
    staff_notes: str = "",
    external_source: str | None = None,
    external_order_id: str = "",
    payment_provider_id: str = "",
    emit_events: bool = True,
    config: SandboxConfig,
    customer_message: str = "",
    shipping_cost_ex_tax: Decimal = ZERO,
    shipping_cost_inc_tax: Decimal = ZERO,
    discount_amount: Decimal = ZERO,
    order_source: str = "www",
    payment_status: str | None = None,
    ip_address: str = "",
    po_number: str = "",
    extra_fields: Sequence[dict[str, str]] = (),
) -> Order:
    """Create a V2 order as a checkout (or the V2 API) would, with its delayed B2B side effects.

    The order gets one shipping address unless every line is digital, a cart id (a fresh UUID
    unless given; the V2 API passes ""), and the ground truth `kind`/`invoice_ids`. It announces
    `store/order/created`, then `store/order/statusUpdated` from 0 (Incomplete) to `status_id`
    as a checkout completing would. B2B Edition later writes the `orderType` metafield
    (`config.metafield_delay`) and, for company buyers, its order record
    (`config.b2b_record_delay`; `po_number` and `extra_fields` travel in that payload).
    """
    if not lines:
        raise V2Error(400, "The field 'products' is invalid: an order needs at least one line.")
    if status_id not in ORDER_STATUSES:
        raise V2Error(400, f"The field 'status_id' is invalid: unknown status {status_id}.")
    order_id = state.next_id("order", 100)
    # Orders own copies: callers pass a customer's address, which must not be shared.
    billing_address = replace(billing_address)
    products = [_order_product(state, order_id, line) for line in lines]
    addresses: list[ShippingAddress] = []
    if any(p.type == "physical" for p in products):
        address = ShippingAddress(
            id=state.next_id("order_address", 1),
            order_id=order_id,
            address=replace(shipping_address or billing_address),
            shipping_method="Flat Rate" if shipping_cost_inc_tax else "Free Shipping",
            base_cost=shipping_cost_inc_tax,
            cost_ex_tax=shipping_cost_ex_tax,
            cost_inc_tax=shipping_cost_inc_tax,
        )
        addresses.append(address)
        for product in products:
            if product.type == "physical":
                product.order_address_id = address.id
    order = Order(
        id=order_id,
        customer_id=customer_id,
        date_created=now,
        date_modified=now,
        status_id=status_id,
        billing_address=billing_address,
        products=products,
        shipping_addresses=addresses,
        channel_id=channel_id,
        payment_method=payment_method,
        payment_provider_id=payment_provider_id,
        payment_status=payment_status if payment_status is not None else _payment_status(status_id),
        staff_notes=staff_notes,
        customer_message=customer_message,
        external_source=external_source,
        external_order_id=external_order_id,
        cart_id=new_cart_id(state) if cart_id is None else cart_id,
        discount_amount=discount_amount,
        shipping_cost_ex_tax=shipping_cost_ex_tax if addresses else ZERO,
        shipping_cost_inc_tax=shipping_cost_inc_tax if addresses else ZERO,
        order_source=order_source,
        ip_address=ip_address,
        truth_kind=kind,
        truth_invoice_ids=list(invoice_ids),
    )
    state.orders[order.id] = order
    if emit_events:
        state.emit("store/order/created", {"type": "order", "id": order.id}, now)
        if status_id != INCOMPLETE:
            state.emit(
                "store/order/statusUpdated",
                {
                    "type": "order",
                    "id": order.id,
                    "status": {"previous_status_id": INCOMPLETE, "new_status_id": status_id},
                },
                now,
            )
    state.schedule(
        "metafield.order_type",
        {"order_id": order.id, "value": kind},
        now + _delay(state, config.metafield_delay),
    )
    customer = state.customers.get(customer_id)
    if customer is not None and customer.company_id is not None:
        payload: dict[str, Any] = {
            "order_id": order.id,
            "is_invoice_order": kind == "invoice payment",
            "invoice_id": invoice_ids[0] if invoice_ids and kind == "invoice payment" else None,
        }
        if po_number:
            payload["po_number"] = po_number
        if extra_fields:
            payload["extra_fields"] = [dict(item) for item in extra_fields]
        state.schedule("b2b.attach_order", payload, now + _delay(state, config.b2b_record_delay))
    return order


def _payment_status(status_id: int) -> str:
    if status_id in (INCOMPLETE, PENDING, 7):
        return "pending"
    if status_id == 6:
        return "declined"
    if status_id == 5:
        return "void"
    if status_id == REFUNDED:
        return "refunded"
    if status_id == PARTIALLY_REFUNDED:
        return "partially refunded"
    return "captured"


def _order_product(state: StoreState, order_id: int, line: LineSpec) -> OrderProduct:
    if line.quantity < 1:
        raise V2Error(400, "The field 'quantity' is invalid: it must be at least 1.")
    if line.type not in ("physical", "digital", "giftcertificate"):
        raise V2Error(400, f"The field 'type' is invalid: {line.type!r}.")
    catalog = state.catalog.get(line.product_id)
    return OrderProduct(
        id=state.next_id("order_product", 1),
        order_id=order_id,
        product_id=line.product_id,
        variant_id=line.variant_id,
        order_address_id=0,
        name=line.name,
        sku=line.sku,
        type=line.type,
        base_price=line.price_ex_tax,
        price_ex_tax=line.price_ex_tax,
        price_inc_tax=line.price_inc_tax,
        quantity=line.quantity,
        brand=catalog.brand if catalog else "",
        weight=catalog.weight if catalog else ZERO,
    )


# --- changing orders ------------------------------------------------------------------------

UPDATABLE_FIELDS = frozenset(
    {
        "status_id",
        "staff_notes",
        "customer_message",
        "billing_address",
        "payment_method",
        "payment_provider_id",
        "payment_status",
        "external_order_id",
        "external_source",
        "customer_id",
        "channel_id",
        "discount_amount",
        "is_deleted",
        "refunded_amount",
    }
)
"""Order attributes `update_order` accepts (values already parsed: Decimal, Address...)."""


def update_order(state: StoreState, order: Order, changes: dict[str, Any], now: datetime) -> Order:
    """Apply `changes` (attribute -> parsed value) as a `PUT /orders/{id}` would.

    A status change announces `store/order/statusUpdated`; `is_deleted: true` archives the
    order. Any change bumps `date_modified` and announces `store/order/updated`; a PUT that
    changes nothing still counts as an update, as BigCommerce saves the order regardless.
    """
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise V2Error(400, f"The field '{sorted(unknown)[0]}' cannot be updated.")
    status_id = changes.get("status_id")
    if status_id is not None and status_id not in ORDER_STATUSES:
        raise V2Error(400, f"The field 'status_id' is invalid: unknown status {status_id}.")
    archive = changes.get("is_deleted") is True and not order.is_deleted
    for name, value in changes.items():
        if name in ("status_id", "is_deleted"):
            continue
        setattr(order, name, value)
    if changes.get("is_deleted") is False:
        order.is_deleted = False
    if status_id is not None:
        _set_status(state, order, int(status_id), now)
        if status_id == REFUNDED and "refunded_amount" not in changes:
            order.refunded_amount = total_inc_tax(order)
        if status_id in (REFUNDED, PARTIALLY_REFUNDED) and "payment_status" not in changes:
            order.payment_status = _payment_status(int(status_id))
    state.touch_order(order, now)
    if archive:
        order.is_deleted = True
        state.emit("store/order/archived", {"type": "order", "id": order.id}, now)
    return order


@dataclass(frozen=True, slots=True)
class LineChange:
    """One entry of a PUT's `products`: change line `id` (quantity 0 removes it) or, without
    `id`, add `line`."""

    id: int | None = None
    quantity: int | None = None
    price_ex_tax: Decimal | None = None
    price_inc_tax: Decimal | None = None
    line: LineSpec | None = None


def change_lines(state: StoreState, order: Order, changes: Sequence[LineChange]) -> None:
    """PATCH semantics of `PUT /orders/{id}` `products` (OrdDoc): lines with an `id` change,
    `quantity: 0` removes one, lines without `id` are added. Call `update_order` afterwards so
    the change is announced. All entries are checked before any is applied.
    """
    by_id = {p.id: p for p in order.products}
    removed: set[int] = set()
    for change in changes:
        if change.id is None:
            continue
        product = by_id.get(change.id)
        if product is None:
            raise V2Error(400, f"The field 'products' is invalid: no order product {change.id}.")
        if change.quantity is not None and change.quantity < product.quantity_shipped:
            raise V2Error(
                400,
                f"The field 'products' is invalid: {product.quantity_shipped} of order product "
                f"{product.id} are already shipped.",
            )
        if change.quantity == 0:
            removed.add(product.id)
    added = [change.line for change in changes if change.id is None and change.line is not None]
    if len(removed) == len(order.products) and not added:
        raise V2Error(400, "The field 'products' is invalid: an order needs at least one line.")
    for change in changes:
        if change.id is None:
            continue
        product = by_id[change.id]
        if change.quantity is not None:
            product.quantity = change.quantity
        if change.price_ex_tax is not None:
            product.price_ex_tax = product.base_price = change.price_ex_tax
        if change.price_inc_tax is not None:
            product.price_inc_tax = change.price_inc_tax
    order.products = [p for p in order.products if p.id not in removed]
    for line in added:
        product = _order_product(state, order.id, line)
        if product.type == "physical":
            if not order.shipping_addresses:
                order.shipping_addresses.append(
                    ShippingAddress(
                        id=state.next_id("order_address", 1),
                        order_id=order.id,
                        address=order.billing_address,
                        shipping_method="Free Shipping",
                    )
                )
            product.order_address_id = order.shipping_addresses[0].id
        order.products.append(product)


def archive_order(state: StoreState, order: Order, now: datetime) -> None:
    """`DELETE /orders/{id}`: the order is archived (`is_deleted`), not removed."""
    if order.is_deleted:
        return
    order.is_deleted = True
    state.touch_order(order, now)
    state.emit("store/order/archived", {"type": "order", "id": order.id}, now)


# --- shipments ------------------------------------------------------------------------------


def _shipment_status(state: StoreState, order: Order, now: datetime) -> None:
    physical = [p for p in order.products if p.type == "physical"]
    if not any(p.quantity_shipped for p in physical):
        return
    if all(p.quantity_shipped >= p.quantity for p in physical):
        _set_status(state, order, SHIPPED, now)
        if order.date_shipped is None:
            order.date_shipped = now
    elif order.status_id != SHIPPED:
        _set_status(state, order, PARTIALLY_SHIPPED, now)


def create_shipment(
    state: StoreState,
    order: Order,
    *,
    order_address_id: int,
    items: Sequence[tuple[int, int]],
    now: datetime,
    tracking_number: str = "",
    tracking_link: str = "",
    shipping_provider: str = "",
    tracking_carrier: str = "",
    shipping_method: str | None = None,
    merchant_shipping_cost: Decimal = ZERO,
    comments: str = "",
) -> Shipment:
    """Ship `items` (`(order_product_id, quantity)`) to one of the order's addresses.

    The order becomes Shipped (2, with `date_shipped`) once every physical item is shipped,
    else Partially Shipped (3).
    """
    address = next((a for a in order.shipping_addresses if a.id == order_address_id), None)
    if address is None:
        raise V2Error(
            400,
            f"The field 'order_address_id' is invalid: {order_address_id} is not an address "
            "of this order.",
        )
    if not items:
        raise V2Error(400, "The field 'items' is invalid: a shipment needs at least one item.")
    by_id = {p.id: p for p in order.products}
    wanted: dict[int, int] = {}
    for product_id, quantity in items:
        product = by_id.get(product_id)
        if product is None or product.type != "physical":
            raise V2Error(
                400, f"The field 'items' is invalid: {product_id} is not a shippable order product."
            )
        if product.order_address_id != order_address_id:
            raise V2Error(
                400, f"The field 'items' is invalid: {product_id} ships to another address."
            )
        wanted[product_id] = wanted.get(product_id, 0) + quantity
    for product_id, quantity in wanted.items():
        product = by_id[product_id]
        if quantity < 1 or product.quantity_shipped + quantity > product.quantity:
            raise V2Error(
                400,
                f"The field 'items' is invalid: cannot ship {quantity} of order product "
                f"{product_id} ({product.quantity - product.quantity_shipped} left to ship).",
            )
    for product_id, quantity in wanted.items():
        by_id[product_id].quantity_shipped += quantity
    shipment = Shipment(
        id=state.next_id("shipment", 1),
        order_id=order.id,
        order_address_id=order_address_id,
        date_created=now,
        items=[ShipmentItem(pid, by_id[pid].product_id, qty) for pid, qty in wanted.items()],
        tracking_number=tracking_number,
        tracking_link=tracking_link,
        shipping_provider=shipping_provider,
        tracking_carrier=tracking_carrier,
        shipping_method=address.shipping_method if shipping_method is None else shipping_method,
        merchant_shipping_cost=merchant_shipping_cost,
        comments=comments,
    )
    order.shipments.append(shipment)
    _shipment_status(state, order, now)
    state.touch_order(order, now)
    state.emit(
        "store/shipment/created", {"type": "shipment", "id": shipment.id, "orderId": order.id}, now
    )
    return shipment


SHIPMENT_UPDATABLE = frozenset(
    {
        "tracking_number",
        "tracking_link",
        "shipping_provider",
        "tracking_carrier",
        "shipping_method",
        "merchant_shipping_cost",
        "comments",
    }
)


def update_shipment(
    state: StoreState, order: Order, shipment: Shipment, changes: dict[str, Any], now: datetime
) -> Shipment:
    """Change a shipment's tracking details (`PUT /orders/{id}/shipments/{id}`)."""
    unknown = set(changes) - SHIPMENT_UPDATABLE
    if unknown:
        raise V2Error(400, f"The field '{sorted(unknown)[0]}' cannot be updated.")
    for name, value in changes.items():
        setattr(shipment, name, value)
    state.touch_order(order, now)
    state.emit(
        "store/shipment/updated", {"type": "shipment", "id": shipment.id, "orderId": order.id}, now
    )
    return shipment


def delete_shipment(state: StoreState, order: Order, shipment: Shipment, now: datetime) -> None:
    """Remove a shipment; its items count as unshipped again but the status stays (OrdDoc)."""
    by_id = {p.id: p for p in order.products}
    for item in shipment.items:
        product = by_id.get(item.order_product_id)
        if product is not None:
            product.quantity_shipped = max(0, product.quantity_shipped - item.quantity)
    order.shipments.remove(shipment)
    state.touch_order(order, now)
    state.emit(
        "store/shipment/deleted", {"type": "shipment", "id": shipment.id, "orderId": order.id}, now
    )


def delete_shipments(state: StoreState, order: Order, now: datetime) -> None:
    """`DELETE /orders/{id}/shipments`: remove every shipment of the order."""
    for shipment in list(order.shipments):
        delete_shipment(state, order, shipment, now)


# --- listing --------------------------------------------------------------------------------


class OrderIndex:
    """All orders of a store sorted by `(date_modified, id)`, kept current incrementally.

    `GET /orders?min_date_modified=...&sort=date_modified:asc` is what a sync poller runs
    against 100,000 orders; bisecting this index avoids sorting the store per request. New
    orders are found at the end of `state.orders` (ids only grow, dicts keep insertion order)
    and changed ones through `state.modified_order_ids`, which `touch_order` fills.
    """

    def __init__(self, state: StoreState) -> None:
        self.state = state
        self._keys: list[tuple[datetime, int]] = []
        self._known: dict[int, datetime] = {}
        self._rebuild()

    def _rebuild(self) -> None:
        self._known = {order.id: order.date_modified for order in self.state.orders.values()}
        self._keys = sorted((moment, order_id) for order_id, moment in self._known.items())
        self.state.modified_order_ids.clear()

    def _catch_up(self) -> None:
        state = self.state
        if len(state.orders) != len(self._known):
            added: list[int] = []
            for order_id in reversed(state.orders):
                if order_id in self._known:
                    break
                added.append(order_id)
            if len(self._known) + len(added) != len(state.orders):
                self._rebuild()
                return
            for order_id in added:
                moment = state.orders[order_id].date_modified
                self._known[order_id] = moment
                bisect.insort(self._keys, (moment, order_id))
        for order_id in state.modified_order_ids:
            order = state.orders.get(order_id)
            old = self._known.get(order_id)
            if order is None or old is None or old == order.date_modified:
                continue
            position = bisect.bisect_left(self._keys, (old, order_id))
            del self._keys[position]
            self._known[order_id] = order.date_modified
            bisect.insort(self._keys, (order.date_modified, order_id))
        state.modified_order_ids.clear()

    def by_date_modified(
        self, low: datetime | None, high: datetime | None, *, descending: bool
    ) -> Iterator[Order]:
        """Orders with `low <= date_modified <= high` in (date_modified, id) order."""
        self._catch_up()
        keys = self._keys
        start = 0 if low is None else bisect.bisect_left(keys, (low, -1))
        stop = len(keys) if high is None else bisect.bisect_right(keys, (high, 2**63))
        orders = self.state.orders
        positions = range(stop - 1, start - 1, -1) if descending else range(start, stop)
        for position in positions:
            yield orders[keys[position][1]]
