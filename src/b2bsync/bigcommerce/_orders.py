"""V2 orders: the order resource, its sub-resources, shipments and order statuses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from b2bsync.bigcommerce._decode import decode_each, parse
from b2bsync.bigcommerce._errors import BadPayload
from b2bsync.bigcommerce._http import ApiHttp, ApiResponse
from b2bsync.bigcommerce._pagination import flatten, v2_pages
from b2bsync.bigcommerce._wire import LenientInt, Rfc2822Datetime, format_rfc2822
from b2bsync.bigcommerce.models.base import WireModel
from b2bsync.bigcommerce.models.orders import (
    Order,
    OrderCount,
    OrderProduct,
    OrderShippingAddress,
    OrderStatus,
    Shipment,
)
from b2bsync.domain.rejects import Rejected, RejectedStream

__all__ = ["MAX_PAGE_SIZE", "OrderPage", "OrdersApi", "decode_order_page", "v2_query"]

MAX_PAGE_SIZE = 250
"""V2 answers 413 above this `limit`."""


def v2_query(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """Filters with datetimes written as RFC 2822, which every V2 date filter accepts."""
    return {
        key: format_rfc2822(value) if isinstance(value, datetime) else value
        for key, value in (filters or {}).items()
    }


def _items(body: Any) -> list[Any]:
    # An empty collection is `204` (body None) or `200 []`; both mean "nothing".
    if body is None:
        return []
    if isinstance(body, list):
        return body
    raise BadPayload(f"expected a JSON array, got {type(body).__name__}")


_ORDER_LIST = TypeAdapter(list[Order])
"""A whole page in one validation call: pydantic's core loops over the items, not Python."""


class _Position(WireModel):
    """Where a record sits in a scan, read from an order that failed to parse as a whole."""

    id: LenientInt
    date_modified: Rfc2822Datetime


@dataclass(frozen=True, slots=True)
class OrderPage:
    """A V2 order page: the orders that parse, the ones that do not, and the scan position
    (id, date_modified) of every record whose position is readable, in page order."""

    orders: list[Order]
    rejected: list[Rejected]
    positions: list[tuple[int, datetime]]
    size: int
    """Records the API returned, parsed or not."""


def _position(raw: Any) -> tuple[int, datetime] | None:
    try:
        found = _Position.model_validate(raw)
    except (ValidationError, ValueError):
        return None
    return found.id, found.date_modified


def _own_id(raw: Any) -> int | None:
    found = _position(raw)
    return found[0] if found is not None else None


def decode_order_page(items: Sequence[Any]) -> OrderPage:
    """Decode a page of V2 orders in one pass; when any record fails, decode each one alone
    (`decode_each`) so only the malformed orders are set aside and the rest go on."""
    try:
        orders = _ORDER_LIST.validate_python(items)
    except ValidationError:
        orders, rejected = decode_each(Order, items, RejectedStream.V2_ORDER, order_of=_own_id)
        positions = [found for found in map(_position, items) if found is not None]
        return OrderPage(orders, rejected, positions, len(items))
    return OrderPage(orders, [], [(order.id, order.date_modified) for order in orders], len(items))


def _object(response: ApiResponse) -> dict[str, Any]:
    if isinstance(response.body, dict):
        return response.body
    raise BadPayload(f"expected a JSON object, got {type(response.body).__name__}")


class OrdersApi:
    """`/v2/orders`, `/v2/orders/{id}/...` and `/v2/order_statuses`."""

    def __init__(self, http: ApiHttp) -> None:
        self._http = http

    async def _get(self, path: str, operation: str, params: Mapping[str, Any] | None = None) -> Any:
        return (await self._http.get("/v2" + path, operation=operation, params=params)).body

    async def iterate(
        self, filters: Mapping[str, Any] | None = None, *, page_size: int = MAX_PAGE_SIZE
    ) -> AsyncIterator[Order]:
        """Every order matching `filters` (see bigcommerce-api.md 1.3), one page in memory at a
        time. Sorted by id (the default) with a `max_id`, paging stops at the page that reaches
        it instead of asking for an empty one."""
        query = v2_query(filters)
        max_id = query.get("max_id")
        by_id = str(query.get("sort", "id")).split(":")[0] == "id" and not str(
            query.get("sort", "")
        ).endswith(":desc")

        def reached_max(page: list[Any]) -> bool:
            last = page[-1].get("id") if isinstance(page[-1], dict) else None
            return by_id and max_id is not None and last is not None and int(last) >= int(max_id)

        async def fetch(params: dict[str, Any]) -> ApiResponse:
            return await self._http.get("/v2/orders", operation="v2.orders.list", params=params)

        pages = v2_pages(fetch, query, limit=page_size, is_last=reached_max)
        async for item in flatten(pages):
            yield Order.model_validate(item)

    async def page(
        self, filters: Mapping[str, Any] | None = None, *, page: int = 1, limit: int = 50
    ) -> list[Order]:
        """One page of orders (empty past the end)."""
        body = await self._get(
            "/orders", "v2.orders.list", {**v2_query(filters), "page": page, "limit": limit}
        )
        items = _items(body)
        try:
            return _ORDER_LIST.validate_python(items)
        except (ValidationError, ValueError):
            # Name the malformed order as the client's own error, not a validation traceback.
            return [parse(Order, item, "v2.orders.list") for item in items]

    async def checked_page(
        self, filters: Mapping[str, Any] | None = None, *, page: int = 1, limit: int = 50
    ) -> OrderPage:
        """One page of orders like `page`, where a malformed order is set aside as `Rejected`
        instead of failing the page."""
        body = await self._get(
            "/orders", "v2.orders.list", {**v2_query(filters), "page": page, "limit": limit}
        )
        return decode_order_page(_items(body))

    async def count(self, filters: Mapping[str, Any] | None = None) -> OrderCount:
        """How many orders match, in total and per status."""
        return OrderCount.model_validate(
            await self._get("/orders/count", "v2.orders.count", v2_query(filters))
        )

    async def get(self, order_id: int, *, include: str | None = None) -> Order:
        """One order (archived ones too); `NotFound` if it does not exist."""
        params = {"include": include} if include else None
        return parse(
            Order, await self._get(f"/orders/{order_id}", "v2.orders.get", params), "v2.orders.get"
        )

    async def create(self, body: Mapping[str, Any]) -> Order:
        """Create an order (answers 200 with the order). Not retried once it may have arrived."""
        response = await self._http.request(
            "POST", "/v2/orders", operation="v2.orders.create", json_body=body
        )
        return Order.model_validate(_object(response))

    async def update(self, order_id: int, changes: Mapping[str, Any]) -> Order:
        """Change an order (PUT behaves like PATCH for sub-resources)."""
        response = await self._http.request(
            "PUT", f"/v2/orders/{order_id}", operation="v2.orders.update", json_body=changes
        )
        return Order.model_validate(_object(response))

    async def archive(self, order_id: int) -> None:
        """Archive one order (`DELETE /orders/{id}`); the collection-wide DELETE is not offered."""
        await self._http.request("DELETE", f"/v2/orders/{order_id}", operation="v2.orders.archive")

    async def products(self, order_id: int) -> AsyncIterator[OrderProduct]:
        """The order's lines, paged."""

        async def fetch(params: dict[str, Any]) -> ApiResponse:
            return await self._http.get(
                f"/v2/orders/{order_id}/products", operation="v2.orders.products", params=params
            )

        async for item in flatten(v2_pages(fetch, {}, limit=MAX_PAGE_SIZE)):
            yield OrderProduct.model_validate(item)

    async def product(self, order_id: int, order_product_id: int) -> OrderProduct:
        """One line of the order."""
        body = await self._get(
            f"/orders/{order_id}/products/{order_product_id}", "v2.orders.product"
        )
        return OrderProduct.model_validate(body)

    async def shipping_addresses(self, order_id: int) -> list[OrderShippingAddress]:
        """The order's shipping addresses (none for digital orders)."""
        body = await self._get(f"/orders/{order_id}/shipping_addresses", "v2.orders.addresses")
        return [OrderShippingAddress.model_validate(item) for item in _items(body)]

    async def shipping_address(self, order_id: int, address_id: int) -> OrderShippingAddress:
        """One shipping address."""
        body = await self._get(
            f"/orders/{order_id}/shipping_addresses/{address_id}", "v2.orders.address"
        )
        return OrderShippingAddress.model_validate(body)

    async def update_shipping_address(
        self, order_id: int, address_id: int, changes: Mapping[str, Any]
    ) -> OrderShippingAddress:
        """Change a shipping address (shipping and tax are not recalculated)."""
        response = await self._http.request(
            "PUT",
            f"/v2/orders/{order_id}/shipping_addresses/{address_id}",
            operation="v2.orders.address.update",
            json_body=changes,
        )
        return OrderShippingAddress.model_validate(_object(response))

    async def sub_resource(self, order_id: int, name: str) -> list[dict[str, Any]]:
        """A list sub-resource without a model of its own (`coupons`, `taxes`, `messages`,
        `fees`, `shipping_addresses/{id}/shipping_quotes`), as plain JSON objects."""
        operation = "v2.orders." + name.split("/")[-1]
        body = await self._get(f"/orders/{order_id}/{name}", operation)
        return [item for item in _items(body) if isinstance(item, dict)]

    async def consignments(self, order_id: int) -> dict[str, Any]:
        """The order's consignments `{shipping[], pickups[], ...}` as plain JSON."""
        response = await self._http.get(
            f"/v2/orders/{order_id}/consignments", operation="v2.orders.consignments"
        )
        return _object(response)

    async def shipments(self, order_id: int) -> list[Shipment]:
        """The order's shipments (`204` when there are none)."""
        body = await self._get(f"/orders/{order_id}/shipments", "v2.shipments.list")
        return [Shipment.model_validate(item) for item in _items(body)]

    async def shipment_count(self, order_id: int) -> int:
        """How many shipments the order has."""
        body = await self._get(f"/orders/{order_id}/shipments/count", "v2.shipments.count")
        if isinstance(body, dict) and "count" in body:
            return int(body["count"])
        raise BadPayload("expected {count} from /shipments/count")

    async def shipment(self, order_id: int, shipment_id: int) -> Shipment:
        """One shipment."""
        body = await self._get(f"/orders/{order_id}/shipments/{shipment_id}", "v2.shipments.get")
        return Shipment.model_validate(body)

    async def create_shipment(self, order_id: int, body: Mapping[str, Any]) -> Shipment:
        """Ship lines (`order_address_id`, `items[{order_product_id, quantity}]`, tracking...)."""
        response = await self._http.request(
            "POST",
            f"/v2/orders/{order_id}/shipments",
            operation="v2.shipments.create",
            json_body=body,
        )
        return Shipment.model_validate(_object(response))

    async def update_shipment(
        self, order_id: int, shipment_id: int, changes: Mapping[str, Any]
    ) -> Shipment:
        """Change a shipment's tracking details."""
        response = await self._http.request(
            "PUT",
            f"/v2/orders/{order_id}/shipments/{shipment_id}",
            operation="v2.shipments.update",
            json_body=changes,
        )
        return Shipment.model_validate(_object(response))

    async def delete_shipment(self, order_id: int, shipment_id: int) -> None:
        """Delete one shipment."""
        await self._http.request(
            "DELETE",
            f"/v2/orders/{order_id}/shipments/{shipment_id}",
            operation="v2.shipments.delete",
        )

    async def delete_shipments(self, order_id: int) -> None:
        """Delete every shipment of the order."""
        await self._http.request(
            "DELETE", f"/v2/orders/{order_id}/shipments", operation="v2.shipments.delete_all"
        )

    async def statuses(self) -> list[OrderStatus]:
        """Every order status with the merchant's custom label."""
        body = await self._get("/order_statuses", "v2.order_statuses.list")
        return [OrderStatus.model_validate(item) for item in _items(body)]

    async def status(self, status_id: int) -> OrderStatus:
        """One order status."""
        body = await self._get(f"/order_statuses/{status_id}", "v2.order_statuses.get")
        return OrderStatus.model_validate(body)
