"""V2 Orders API routes (`/stores/{store_hash}/v2/...`), shaped like orders.v2.oas2.yml.

Query parsing and error shapes follow BigCommerce: bare JSON arrays, 204 for an empty page,
413 for `limit` above 250, V2 error arrays `[{status, message}]` naming the offending field.
Archived orders (`is_deleted`) are left out of `/orders` and `/orders/count` unless
`is_deleted=true` asks for exactly them (a sandbox choice: the docs do not say).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from b2bsync.sandbox.errors import V2Error
from b2bsync.sandbox.models import Address, Order, Shipment
from b2bsync.sandbox.orders import (
    ORDER_STATUSES,
    LineChange,
    LineSpec,
    OrderIndex,
    archive_order,
    change_lines,
    create_shipment,
    delete_shipment,
    delete_shipments,
    place_order,
    total_inc_tax,
    update_order,
    update_shipment,
)
from b2bsync.sandbox.render_v2 import (
    render_consignments,
    render_count,
    render_order,
    render_product,
    render_shipment,
    render_shipping_address,
    render_status,
)
from b2bsync.sandbox.responses import json_response, no_content
from b2bsync.sandbox.routes.endpoint import Context, endpoint, read_json
from b2bsync.sandbox.world import StoreState

MAX_LIMIT = 250
DEFAULT_LIMIT = 50
SORT_FIELDS = frozenset(
    {"id", "customer_id", "date_created", "date_modified", "status_id", "channel_id", "external_id"}
)
INCLUDES = frozenset({"consignments", "consignments.line_items", "fees"})
_ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "street_1",
    "street_2",
    "city",
    "state",
    "zip",
    "country",
    "country_iso2",
    "phone",
    "email",
)


def _invalid(field: str, why: str = "") -> V2Error:
    return V2Error(400, f"The field '{field}' is invalid.{' ' + why if why else ''}")


# --- request context ------------------------------------------------------------------------


def _api_base(request: Request, ctx: Context) -> str:
    """The store's V2 base URL as this request reached it: resources link to each other by it."""
    base = str(request.base_url).rstrip("/")
    return f"{base}/stores/{ctx.state.store_hash}/v2"


def _index(request: Request, state: StoreState) -> OrderIndex:
    indexes: dict[str, OrderIndex] | None = getattr(request.app.state, "v2_order_indexes", None)
    if indexes is None:
        indexes = {}
        request.app.state.v2_order_indexes = indexes
    index = indexes.get(state.store_hash)
    # The admin API may swap a store for a freshly seeded one: the index follows the store.
    if index is None or index.state is not state:
        index = OrderIndex(state)
        indexes[state.store_hash] = index
    return index


def _order(ctx: Context, request: Request) -> Order:
    raw = request.path_params["order_id"]
    order = ctx.state.orders.get(int(raw)) if raw.isdigit() else None
    if order is None:
        raise V2Error(404, "The requested resource was not found.")
    return order


async def _json_object(request: Request) -> dict[str, Any]:
    body: dict[str, Any] = await read_json(
        request,
        V2Error(400, "The request body is not valid JSON."),
        empty=None,
        not_object=V2Error(400, "The request body must be a JSON object."),
    )
    return body


# --- query parsing --------------------------------------------------------------------------


def _int(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise _invalid(name, "Expected an integer.") from None


def _decimal(params: Mapping[str, str], name: str) -> Decimal | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise _invalid(name, "Expected a number.") from None
    if not value.is_finite():
        raise _invalid(name, "Expected a number.")
    return value


def parse_date(raw: str) -> datetime:
    """A V2 date filter: RFC 2822 or ISO 8601 (naive means UTC), as aware UTC.

    A `+` of an unencoded offset arrives as a space; it is read back as `+`.
    """
    text = raw.strip()
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            moment = datetime.fromisoformat(text.replace(" ", "+") if "T" in text else text)
        except ValueError:
            raise ValueError(raw) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _date(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_date(raw)
    except ValueError:
        raise _invalid(name, "Expected an RFC 2822 or ISO 8601 date.") from None


def _page(params: Mapping[str, str]) -> tuple[int, int]:
    page = _int(params, "page")
    limit = _int(params, "limit")
    if limit is not None and limit > MAX_LIMIT:
        raise V2Error(413, f"The limit may not exceed {MAX_LIMIT}.")
    if page is not None and page < 1:
        raise _invalid("page", "It must be 1 or more.")
    if limit is not None and limit < 1:
        raise _invalid("limit", "It must be 1 or more.")
    return page or 1, limit or DEFAULT_LIMIT


def _includes(params: Mapping[str, str]) -> tuple[bool, bool, bool]:
    """(consignments, consignments.line_items, fees) asked for by `include`."""
    raw = params.get("include", "")
    wanted = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = wanted - INCLUDES
    if unknown:
        raise _invalid("include", f"Unknown value {sorted(unknown)[0]!r}.")
    structure = params.get("consignment_structure")
    if structure not in (None, "", "object"):
        raise _invalid("consignment_structure", "The only value is 'object'.")
    line_items = "consignments.line_items" in wanted
    return "consignments" in wanted or line_items, line_items, "fees" in wanted


def _bool(params: Mapping[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise _invalid(name, "Expected true or false.")


@dataclass(slots=True)
class OrderFilter:
    """The documented `GET /orders` filters (inclusive bounds), plus `is_deleted`."""

    min_id: int | None = None
    max_id: int | None = None
    min_total: Decimal | None = None
    max_total: Decimal | None = None
    customer_id: int | None = None
    email: str | None = None
    status_id: int | None = None
    cart_id: str | None = None
    payment_method: str | None = None
    min_date_created: datetime | None = None
    max_date_created: datetime | None = None
    min_date_modified: datetime | None = None
    max_date_modified: datetime | None = None
    channel_id: int | None = None
    external_order_id: str | None = None
    is_deleted: bool = False

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> OrderFilter:
        """Parse the filters; 400 names the first malformed one."""
        email = params.get("email")
        return cls(
            min_id=_int(params, "min_id"),
            max_id=_int(params, "max_id"),
            min_total=_decimal(params, "min_total"),
            max_total=_decimal(params, "max_total"),
            customer_id=_int(params, "customer_id"),
            email=email.lower() if email else None,
            status_id=_int(params, "status_id"),
            cart_id=params.get("cart_id") or None,
            payment_method=params.get("payment_method") or None,
            min_date_created=_date(params, "min_date_created"),
            max_date_created=_date(params, "max_date_created"),
            min_date_modified=_date(params, "min_date_modified"),
            max_date_modified=_date(params, "max_date_modified"),
            channel_id=_int(params, "channel_id"),
            external_order_id=params.get("external_order_id") or None,
            is_deleted=bool(_bool(params, "is_deleted")),
        )

    def matches(self, order: Order, state: StoreState) -> bool:
        """Whether `order` passes every given filter."""
        checks = (
            order.is_deleted == self.is_deleted,
            self.min_id is None or order.id >= self.min_id,
            self.max_id is None or order.id <= self.max_id,
            self.customer_id is None or order.customer_id == self.customer_id,
            self.status_id is None or order.status_id == self.status_id,
            self.cart_id is None or order.cart_id == self.cart_id,
            self.payment_method is None or order.payment_method == self.payment_method,
            self.channel_id is None or order.channel_id == self.channel_id,
            self.external_order_id is None or order.external_order_id == self.external_order_id,
            self.min_date_created is None or order.date_created >= self.min_date_created,
            self.max_date_created is None or order.date_created <= self.max_date_created,
            self.min_date_modified is None or order.date_modified >= self.min_date_modified,
            self.max_date_modified is None or order.date_modified <= self.max_date_modified,
        )
        if not all(checks):
            return False
        if self.email is not None and not self._email_matches(order, state):
            return False
        if self.min_total is not None or self.max_total is not None:
            total = total_inc_tax(order)
            if self.min_total is not None and total < self.min_total:
                return False
            if self.max_total is not None and total > self.max_total:
                return False
        return True

    def _email_matches(self, order: Order, state: StoreState) -> bool:
        customer = state.customers.get(order.customer_id)
        emails = {order.billing_address.email.lower()}
        if customer is not None:
            emails.add(customer.email.lower())
        return self.email in emails


def _sort(params: Mapping[str, str]) -> tuple[str, bool]:
    raw = params.get("sort") or "id"
    field, _, direction = raw.partition(":")
    if field not in SORT_FIELDS or direction not in ("", "asc", "desc"):
        raise _invalid("sort", f"Sort by one of {', '.join(sorted(SORT_FIELDS))}[:asc|:desc].")
    return field, direction == "desc"


def _sort_key(field: str) -> Callable[[Order], tuple[Any, int]]:
    if field == "external_id":
        return lambda order: (order.external_id or "", order.id)
    return lambda order: (getattr(order, field), order.id)


def _candidates(
    state: StoreState, index: OrderIndex, flt: OrderFilter, field: str, descending: bool
) -> Iterator[Order]:
    """Orders passing `flt` in the requested order, produced lazily where an order exists."""
    if field == "date_modified":
        ordered: Iterable[Order] = index.by_date_modified(
            flt.min_date_modified, flt.max_date_modified, descending=descending
        )
    elif field == "id":
        # Ids only grow and the dict keeps insertion order, so it is already sorted by id.
        ordered = reversed(state.orders.values()) if descending else state.orders.values()
    else:
        ordered = sorted(
            (o for o in state.orders.values() if flt.matches(o, state)),
            key=_sort_key(field),
            reverse=descending,
        )
    return (order for order in ordered if flt.matches(order, state))


# --- orders ---------------------------------------------------------------------------------


def list_orders(request: Request, ctx: Context) -> Response:
    """`GET /orders`."""
    params = request.query_params
    flt = OrderFilter.from_query(params)
    field, descending = _sort(params)
    page, limit = _page(params)
    consignments, line_items, fees = _includes(params)
    state = ctx.state
    matching = _candidates(state, _index(request, state), flt, field, descending)
    chosen = list(itertools.islice(matching, (page - 1) * limit, page * limit))
    if not chosen:
        return no_content()
    api_base = _api_base(request, ctx)
    return json_response(
        [
            render_order(
                state,
                order,
                api_base,
                consignments=consignments,
                line_items=line_items,
                fees=fees,
            )
            for order in chosen
        ]
    )


def count_orders(request: Request, ctx: Context) -> Response:
    """`GET /orders/count`: per-status counts of the orders passing the filters."""
    flt = OrderFilter.from_query(request.query_params)
    counts: dict[int, int] = {}
    for order in ctx.state.orders.values():
        if flt.matches(order, ctx.state):
            counts[order.status_id] = counts.get(order.status_id, 0) + 1
    return json_response(render_count(ctx.state, counts))


def get_order(request: Request, ctx: Context) -> Response:
    """`GET /orders/{order_id}`."""
    order = _order(ctx, request)
    consignments, line_items, fees = _includes(request.query_params)
    return json_response(
        render_order(
            ctx.state,
            order,
            _api_base(request, ctx),
            consignments=consignments,
            line_items=line_items,
            fees=fees,
        )
    )


def _text(body: Mapping[str, Any], name: str, *, max_length: int | None = None) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or (max_length is not None and len(value) > max_length):
        raise _invalid(
            name, f"Expected a string{f' of at most {max_length}' if max_length else ''}."
        )
    return value


def _money_field(body: Mapping[str, Any], name: str) -> Decimal | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _invalid(name, "Expected a number.")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise _invalid(name, "Expected a number.") from None
    if not amount.is_finite() or amount < 0:
        raise _invalid(name, "The value can't be negative.")
    return amount


def _int_field(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(name, "Expected an integer.")
    return int(value)


def _address(raw: Any, name: str, base: Address | None = None) -> Address:
    if not isinstance(raw, dict):
        raise _invalid(name, "Expected an object.")
    values = {field: getattr(base, field) if base is not None else "" for field in _ADDRESS_FIELDS}
    for field in _ADDRESS_FIELDS:
        if field in raw:
            value = raw[field]
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise _invalid(f"{name}.{field}", "Expected a string.")
            values[field] = str(value)
    if len(values["zip"]) < 2:
        raise _invalid(f"{name}.zip", "It is required and needs at least 2 characters.")
    if values["country_iso2"] == "" and values["country"] == "United States":
        values["country_iso2"] = "US"
    return Address(**values)


def _line(state: StoreState, raw: Any, position: int) -> LineSpec:
    name = f"products[{position}]"
    if not isinstance(raw, dict):
        raise _invalid(name, "Expected an object.")
    quantity = _int_field(raw, "quantity")
    if quantity is None or quantity < 1:
        raise _invalid(f"{name}.quantity", "It is required and must be at least 1.")
    price_ex = _money_field(raw, "price_ex_tax")
    price_inc = _money_field(raw, "price_inc_tax")
    product_id = raw.get("product_id")
    if product_id is not None:
        product = state.catalog.get(product_id) if isinstance(product_id, int) else None
        if product is None:
            raise _invalid(f"{name}.product_id", f"Product {product_id!r} does not exist.")
        variant_id = _int_field(raw, "variant_id") or product.variant_id
        if price_ex is None and price_inc is None:
            price_ex = price_inc = product.price
        return LineSpec(
            name=_text(raw, "name", max_length=250) or product.name,
            quantity=quantity,
            price_ex_tax=price_ex if price_ex is not None else price_inc or product.price,
            price_inc_tax=price_inc if price_inc is not None else price_ex or product.price,
            product_id=product.id,
            variant_id=variant_id,
            sku=product.sku,
            type="digital" if product.is_digital else "physical",
        )
    line_name = _text(raw, "name", max_length=250)
    if not line_name:
        raise _invalid(f"{name}.name", "A custom product needs a name (1-250 characters).")
    if price_ex is None or price_inc is None:
        raise _invalid(
            f"{name}.price_inc_tax" if price_inc is None else f"{name}.price_ex_tax",
            "A custom product needs both price_ex_tax and price_inc_tax.",
        )
    return LineSpec(
        name=line_name,
        quantity=quantity,
        price_ex_tax=price_ex,
        price_inc_tax=price_inc,
        sku=_text(raw, "sku") or "",
    )


def _date_field(body: Mapping[str, Any], name: str) -> datetime | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(name, "Expected an RFC 2822 date.")
    try:
        return parse_date(value)
    except ValueError:
        raise _invalid(name, "Expected an RFC 2822 date.") from None


def _status_field(body: Mapping[str, Any]) -> int | None:
    status_id = _int_field(body, "status_id")
    if status_id is not None and status_id not in ORDER_STATUSES:
        raise _invalid("status_id", f"Unknown status {status_id}.")
    return status_id


def _customer_field(state: StoreState, body: Mapping[str, Any]) -> int | None:
    customer_id = _int_field(body, "customer_id")
    if customer_id not in (None, 0) and customer_id not in state.customers:
        raise _invalid("customer_id", f"Customer {customer_id} does not exist.")
    return customer_id


def _shipping_costs(body: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    ex, inc = (
        _money_field(body, "shipping_cost_ex_tax"),
        _money_field(body, "shipping_cost_inc_tax"),
    )
    if (ex is None) != (inc is None):
        raise _invalid(
            "shipping_cost_inc_tax" if inc is None else "shipping_cost_ex_tax",
            "shipping_cost_ex_tax and shipping_cost_inc_tax go together.",
        )
    return ex or Decimal("0"), inc or Decimal("0")


async def create_order(request: Request, ctx: Context) -> Response:
    """`POST /orders`: answers 200 with the new order, as BigCommerce does."""
    body = await _json_object(request)
    state = ctx.state
    if "billing_address" not in body:
        raise _invalid("billing_address", "It is required.")
    billing = _address(body["billing_address"], "billing_address")
    if "consignments" in body:
        raise V2Error(
            422, "The field 'consignments' is invalid. The sandbox does not model pickups."
        )
    products = body.get("products")
    if not isinstance(products, list) or not products:
        raise _invalid("products", "It is required: a non-empty array of products.")
    lines = [_line(state, raw, position) for position, raw in enumerate(products)]
    shipping_address: Address | None = None
    addresses = body.get("shipping_addresses")
    if addresses is not None:
        if not isinstance(addresses, list) or len(addresses) > 1:
            raise V2Error(
                422, "The field 'shipping_addresses' is invalid. The sandbox takes one address."
            )
        if addresses:
            shipping_address = _address(addresses[0], "shipping_addresses[0]")
    ship_ex, ship_inc = _shipping_costs(body)
    status_id = _status_field(body)
    customer_id = _customer_field(state, body)
    channel_id = _int_field(body, "channel_id")
    provider = body.get("payment_provider_id")
    date_created = _date_field(body, "date_created")
    now = ctx.now
    order = place_order(
        state,
        customer_id=customer_id or 0,
        billing_address=billing,
        lines=lines,
        now=now,
        status_id=1 if status_id is None else status_id,
        payment_method=_text(body, "payment_method") or "",
        channel_id=channel_id or 1,
        shipping_address=shipping_address,
        cart_id="",
        staff_notes=_text(body, "staff_notes", max_length=65535) or "",
        external_source=_text(body, "external_source"),
        external_order_id=_text(body, "external_order_id") or "",
        payment_provider_id="" if provider is None else str(provider),
        customer_message=_text(body, "customer_message") or "",
        shipping_cost_ex_tax=ship_ex,
        shipping_cost_inc_tax=ship_inc,
        discount_amount=_money_field(body, "discount_amount") or Decimal("0"),
        order_source="external",
        config=ctx.world.config,
    )
    if date_created is not None:
        # A migrated order keeps its historical creation date; it was written just now.
        order.date_created = date_created
    consignments, line_items, fees = _includes(request.query_params)
    return json_response(
        render_order(
            state,
            order,
            _api_base(request, ctx),
            consignments=consignments,
            line_items=line_items,
            fees=fees,
        )
    )


def _line_changes(state: StoreState, raw: Any) -> list[LineChange]:
    if not isinstance(raw, list):
        raise _invalid("products", "Expected an array.")
    changes: list[LineChange] = []
    for position, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _invalid(f"products[{position}]", "Expected an object.")
        if "id" not in item:
            changes.append(LineChange(line=_line(state, item, position)))
            continue
        line_id = _int_field(item, "id")
        quantity = _int_field(item, "quantity")
        if quantity is not None and quantity < 0:
            raise _invalid(f"products[{position}].quantity", "It can't be negative.")
        changes.append(
            LineChange(
                id=line_id,
                quantity=quantity,
                price_ex_tax=_money_field(item, "price_ex_tax"),
                price_inc_tax=_money_field(item, "price_inc_tax"),
            )
        )
    return changes


async def put_order(request: Request, ctx: Context) -> Response:
    """`PUT /orders/{order_id}`."""
    order = _order(ctx, request)
    body = await _json_object(request)
    state = ctx.state
    changes: dict[str, Any] = {}
    status_id = _status_field(body)
    if status_id is not None:
        changes["status_id"] = status_id
    for name in ("staff_notes", "customer_message", "payment_method", "external_order_id"):
        value = _text(body, name, max_length=65535)
        if value is not None:
            changes[name] = value
    if "external_source" in body:
        changes["external_source"] = _text(body, "external_source")
    if "payment_provider_id" in body:
        changes["payment_provider_id"] = str(body["payment_provider_id"] or "")
    if "billing_address" in body:
        changes["billing_address"] = _address(
            body["billing_address"], "billing_address", order.billing_address
        )
    customer_id = _customer_field(state, body)
    if customer_id is not None:
        changes["customer_id"] = customer_id
    channel_id = _int_field(body, "channel_id")
    if channel_id is not None:
        changes["channel_id"] = channel_id
    discount = _money_field(body, "discount_amount")
    if discount is not None:
        changes["discount_amount"] = discount
    if "is_deleted" in body:
        if not isinstance(body["is_deleted"], bool):
            raise _invalid("is_deleted", "Expected true or false.")
        changes["is_deleted"] = body["is_deleted"]
    for name in ("shipping_addresses", "consignments", "fees"):
        if name in body:
            raise V2Error(
                422, f"The field '{name}' is invalid. The sandbox does not edit {name} by PUT."
            )
    if "products" in body:
        change_lines(state, order, _line_changes(state, body["products"]))
    update_order(state, order, changes, ctx.now)
    return json_response(render_order(state, order, _api_base(request, ctx)))


def delete_order(request: Request, ctx: Context) -> Response:
    """`DELETE /orders/{order_id}`: archives the order."""
    archive_order(ctx.state, _order(ctx, request), ctx.now)
    return no_content()


def delete_all_orders(request: Request, ctx: Context) -> Response:
    """`DELETE /orders`: archives every order (or the first `limit` live ones)."""
    limit = _int(request.query_params, "limit")
    now = ctx.now
    live = (order for order in list(ctx.state.orders.values()) if not order.is_deleted)
    for order in itertools.islice(live, limit):
        archive_order(ctx.state, order, now)
    return no_content()


# --- sub-resources --------------------------------------------------------------------------


def _paged(request: Request, items: list[Any]) -> Response:
    page, limit = _page(request.query_params)
    chosen = items[(page - 1) * limit : page * limit]
    return json_response(chosen) if chosen else no_content()


def list_products(request: Request, ctx: Context) -> Response:
    """`GET /orders/{order_id}/products`."""
    order = _order(ctx, request)
    return _paged(request, [render_product(p) for p in order.products])


def get_product(request: Request, ctx: Context) -> Response:
    """`GET /orders/{order_id}/products/{product_id}`."""
    order = _order(ctx, request)
    wanted = request.path_params["product_id"]
    product = next((p for p in order.products if str(p.id) == wanted), None)
    if product is None:
        raise V2Error(404, "The requested resource was not found.")
    return json_response(render_product(product))


def list_shipping_addresses(request: Request, ctx: Context) -> Response:
    """`GET /orders/{order_id}/shipping_addresses` (also spelled `shippingaddresses`)."""
    order = _order(ctx, request)
    api_base = _api_base(request, ctx)
    return _paged(
        request, [render_shipping_address(order, a, api_base) for a in order.shipping_addresses]
    )


def get_shipping_address(request: Request, ctx: Context) -> Response:
    """`GET /orders/{order_id}/shipping_addresses/{id}`."""
    order = _order(ctx, request)
    wanted = request.path_params["address_id"]
    address = next((a for a in order.shipping_addresses if str(a.id) == wanted), None)
    if address is None:
        raise V2Error(404, "The requested resource was not found.")
    return json_response(render_shipping_address(order, address, _api_base(request, ctx)))


def shipping_quotes(request: Request, ctx: Context) -> Response:
    """Quotes of a shipping address: none for orders made by API or seed (204), as documented."""
    order = _order(ctx, request)
    wanted = request.path_params["address_id"]
    if not any(str(a.id) == wanted for a in order.shipping_addresses):
        raise V2Error(404, "The requested resource was not found.")
    return no_content()


def empty_collection(request: Request, ctx: Context) -> Response:
    """Coupons and fees: the sandbox's orders have none (204)."""
    _order(ctx, request)
    return no_content()


def get_consignments(request: Request, ctx: Context) -> Response:
    """`GET /orders/{order_id}/consignments` (`include=consignments.line_items`)."""
    order = _order(ctx, request)
    raw = request.query_params.get("include", "")
    wanted = {part.strip() for part in raw.split(",") if part.strip()}
    if wanted - {"consignments.line_items"}:
        raise _invalid("include", "The only value is 'consignments.line_items'.")
    return json_response(
        render_consignments(
            order, _api_base(request, ctx), line_items="consignments.line_items" in wanted
        )
    )


def _shipment(order: Order, request: Request) -> Shipment:
    wanted = request.path_params["shipment_id"]
    shipment = next((s for s in order.shipments if str(s.id) == wanted), None)
    if shipment is None:
        raise V2Error(404, "The requested resource was not found.")
    return shipment


def list_shipments(request: Request, ctx: Context) -> Response:
    """`GET /orders/{order_id}/shipments`: 204 when the order has none."""
    order = _order(ctx, request)
    return _paged(request, [render_shipment(order, s) for s in order.shipments])


def count_shipments(request: Request, ctx: Context) -> Response:
    """`GET /orders/{order_id}/shipments/count`."""
    return json_response({"count": len(_order(ctx, request).shipments)})


def get_shipment(request: Request, ctx: Context) -> Response:
    """`GET /orders/{order_id}/shipments/{shipment_id}`."""
    order = _order(ctx, request)
    return json_response(render_shipment(order, _shipment(order, request)))


_TRACKING_LIMITS = {
    "tracking_number": 50,
    "tracking_link": 500,
    "shipping_provider": 100,
    "tracking_carrier": 100,
    "shipping_method": 250,
    "comments": 65535,
}


def _shipment_details(body: Mapping[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {}
    for name, max_length in _TRACKING_LIMITS.items():
        value = _text(body, name, max_length=max_length)
        if value is not None:
            details[name] = value
    cost = _money_field(body, "merchant_shipping_cost")
    if cost is not None:
        details["merchant_shipping_cost"] = cost
    return details


async def post_shipment(request: Request, ctx: Context) -> Response:
    """`POST /orders/{order_id}/shipments`: 201 with the shipment."""
    order = _order(ctx, request)
    body = await _json_object(request)
    address_id = _int_field(body, "order_address_id")
    if address_id is None:
        raise _invalid("order_address_id", "It is required.")
    raw_items = body.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise _invalid("items", "It is required: a non-empty array.")
    items: list[tuple[int, int]] = []
    for position, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            raise _invalid(f"items[{position}]", "Expected an object.")
        product_id = _int_field(raw, "order_product_id")
        quantity = _int_field(raw, "quantity")
        if product_id is None or quantity is None:
            raise _invalid(f"items[{position}]", "order_product_id and quantity are required.")
        items.append((product_id, quantity))
    shipment = create_shipment(
        ctx.state,
        order,
        order_address_id=address_id,
        items=items,
        now=ctx.now,
        **_shipment_details(body),
    )
    return json_response(render_shipment(order, shipment), 201)


async def put_shipment(request: Request, ctx: Context) -> Response:
    """`PUT /orders/{order_id}/shipments/{shipment_id}`: tracking details."""
    order = _order(ctx, request)
    shipment = _shipment(order, request)
    body = await _json_object(request)
    update_shipment(ctx.state, order, shipment, _shipment_details(body), ctx.now)
    return json_response(render_shipment(order, shipment))


def remove_shipment(request: Request, ctx: Context) -> Response:
    """`DELETE /orders/{order_id}/shipments/{shipment_id}`."""
    order = _order(ctx, request)
    delete_shipment(ctx.state, order, _shipment(order, request), ctx.now)
    return no_content()


def remove_shipments(request: Request, ctx: Context) -> Response:
    """`DELETE /orders/{order_id}/shipments`: every shipment of the order."""
    delete_shipments(ctx.state, _order(ctx, request), ctx.now)
    return no_content()


# --- statuses -------------------------------------------------------------------------------


def list_statuses(request: Request, ctx: Context) -> Response:
    """`GET /order_statuses`."""
    return json_response([render_status(ctx.state, status_id) for status_id in ORDER_STATUSES])


def get_status(request: Request, ctx: Context) -> Response:
    """`GET /order_statuses/{status_id}`."""
    raw = request.path_params["status_id"]
    if not raw.isdigit() or int(raw) not in ORDER_STATUSES:
        raise V2Error(404, "The requested resource was not found.")
    return json_response(render_status(ctx.state, int(raw)))


_ORDER = "/orders/{order_id}"
routes: list[BaseRoute] = [
    Route("/orders", endpoint(list_orders), methods=["GET"]),
    Route("/orders", endpoint(create_order), methods=["POST"]),
    Route("/orders", endpoint(delete_all_orders), methods=["DELETE"]),
    Route("/orders/count", endpoint(count_orders), methods=["GET"]),
    Route(_ORDER, endpoint(get_order), methods=["GET"]),
    Route(_ORDER, endpoint(put_order), methods=["PUT"]),
    Route(_ORDER, endpoint(delete_order), methods=["DELETE"]),
    Route(f"{_ORDER}/products", endpoint(list_products), methods=["GET"]),
    Route(f"{_ORDER}/products/{{product_id}}", endpoint(get_product), methods=["GET"]),
    Route(f"{_ORDER}/shipping_addresses", endpoint(list_shipping_addresses), methods=["GET"]),
    Route(f"{_ORDER}/shippingaddresses", endpoint(list_shipping_addresses), methods=["GET"]),
    Route(
        f"{_ORDER}/shipping_addresses/{{address_id}}",
        endpoint(get_shipping_address),
        methods=["GET"],
    ),
    Route(
        f"{_ORDER}/shipping_addresses/{{address_id}}/shipping_quotes",
        endpoint(shipping_quotes),
        methods=["GET"],
    ),
    Route(f"{_ORDER}/coupons", endpoint(empty_collection), methods=["GET"]),
    Route(f"{_ORDER}/fees", endpoint(empty_collection), methods=["GET"]),
    Route(f"{_ORDER}/consignments", endpoint(get_consignments), methods=["GET"]),
    Route(f"{_ORDER}/shipments", endpoint(list_shipments), methods=["GET"]),
    Route(f"{_ORDER}/shipments", endpoint(post_shipment), methods=["POST"]),
    Route(f"{_ORDER}/shipments", endpoint(remove_shipments), methods=["DELETE"]),
    Route(f"{_ORDER}/shipments/count", endpoint(count_shipments), methods=["GET"]),
    Route(f"{_ORDER}/shipments/{{shipment_id}}", endpoint(get_shipment), methods=["GET"]),
    Route(f"{_ORDER}/shipments/{{shipment_id}}", endpoint(put_shipment), methods=["PUT"]),
    Route(f"{_ORDER}/shipments/{{shipment_id}}", endpoint(remove_shipment), methods=["DELETE"]),
    Route("/order_statuses", endpoint(list_statuses), methods=["GET"]),
    Route("/order_statuses/{status_id}", endpoint(get_status), methods=["GET"]),
]
