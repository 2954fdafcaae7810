"""B2B Edition orders (order.yaml): the B2B view of BigCommerce orders placed by company buyers.

Paths name orders by their BigCommerce id (`bcOrderId`). Commercial fields come from the V2
order; B2B Edition adds the company, PO number, extra fields and the invoice-payment facts.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from b2bsync.sandbox import render_b2b
from b2bsync.sandbox.b2b.orders import (
    ORDER_EXTRA_FIELDS,
    attach_order_via_api,
    b2b_order_updated_at,
    update_b2b_order,
)
from b2bsync.sandbox.errors import B2BError
from b2bsync.sandbox.models import B2BOrder, Order
from b2bsync.sandbox.responses import b2b_response, json_response
from b2bsync.sandbox.routes.b2b_common import (
    Query,
    body,
    extra_fields_of,
    page_of,
    path_int,
    sort_in_place,
)
from b2bsync.sandbox.routes.endpoint import Context, endpoint
from b2bsync.sandbox.world import StoreState

MAX_LIMIT = 200
DEFAULT_WINDOW = timedelta(days=365)
"""Without date filters the list holds only orders created or updated in the last year."""

NOT_FOUND = "Order Does Not Exist."


def _pair(state: StoreState, bc_order_id: int, message: str = NOT_FOUND) -> tuple[B2BOrder, Order]:
    record = state.b2b_orders.get(bc_order_id)
    source = state.orders.get(bc_order_id)
    if record is None or source is None:
        raise B2BError(404, message)
    return record, source


@endpoint
async def list_orders(request: Request, ctx: Context) -> Response:
    """`GET /orders`."""
    state = ctx.state
    query = Query(request)
    offset, limit = query.page(max_limit=MAX_LIMIT)
    company_id = query.integer("companyId")
    bc_order_id = query.integer("bcOrderId")
    order_by = query.choice("orderBy", ("DESC", "ASC"), "DESC")
    sort_by = query.choice("sortBy", ("updatedAt", "createdAt"), "updatedAt")
    min_modified, max_modified = query.moment("minModified"), query.moment("maxModified")
    min_created, max_created = query.moment("minCreated"), query.moment("maxCreated")
    show_extra = query.flag("showExtra")
    channels = set(query.integers("channelIds")) or {1}
    dated = any(v is not None for v in (min_modified, max_modified, min_created, max_created))
    since = ctx.now - DEFAULT_WINDOW

    pairs: list[tuple[B2BOrder, Order]] = []
    for record in state.b2b_orders.values():
        source = state.orders.get(record.bc_order_id)
        if source is None:
            continue
        updated = b2b_order_updated_at(record, source)
        created = source.date_created
        if (
            (company_id is None or record.company_id == company_id)
            and (bc_order_id is None or source.id == bc_order_id)
            and source.channel_id in channels
            and (min_modified is None or updated >= min_modified)
            and (max_modified is None or updated <= max_modified)
            and (min_created is None or created >= min_created)
            and (max_created is None or created <= max_created)
            and (dated or created >= since or updated >= since)
        ):
            pairs.append((record, source))
    pairs.sort(key=lambda pair: pair[1].id)
    if sort_by == "createdAt":
        sort_in_place(pairs, lambda pair: pair[1].date_created, order_by)
    else:
        sort_in_place(pairs, lambda pair: b2b_order_updated_at(*pair), order_by)
    return page_of(
        pairs,
        offset,
        limit,
        lambda pair: render_b2b.order(state, pair[0], pair[1], show_extra=show_extra),
    )


@endpoint
async def get_order(request: Request, ctx: Context) -> Response:
    """`GET /orders/{bcOrderId}`: `data` is one object (bigcommerce-api.md §0)."""
    state = ctx.state
    record, source = _pair(state, path_int(request, "bcOrderId", NOT_FOUND))
    return b2b_response(render_b2b.order(state, record, source, detail=True))


@endpoint
async def update_order(request: Request, ctx: Context) -> Response:
    """`PUT /orders/{bcOrderId}`: PO number and/or extra fields; the spec answers with a
    one-element array and a top-level `message`."""
    state = ctx.state
    record, source = _pair(state, path_int(request, "bcOrderId", NOT_FOUND))
    payload = await body(request)
    po_number = payload.get("poNumber")
    if po_number is not None and not isinstance(po_number, str):
        raise B2BError(422, "poNumber must be a string")
    raw_fields = payload.get("extraFields")
    update_b2b_order(
        state,
        record,
        now=ctx.now,
        po_number=po_number,
        extra_fields=None if raw_fields is None else extra_fields_of(raw_fields),
    )
    return json_response(
        {
            "code": 200,
            "message": "SUCCESS",
            "meta": {"message": "SUCCESS"},
            "data": [render_b2b.order(state, record, source, detail=True)],
        }
    )


@endpoint
async def create_order(request: Request, ctx: Context) -> Response:
    """`POST /orders`: attach B2B data to a BigCommerce order within 10 s of its creation."""
    state = ctx.state
    payload = await body(request)
    bc_order_id, customer_id = payload.get("bcOrderId"), payload.get("customerId")
    if not isinstance(bc_order_id, int) or not isinstance(customer_id, int):
        raise B2BError(422, "bcOrderId and customerId are required integers")
    po_number = payload.get("poNumber")
    if po_number is not None and not isinstance(po_number, str):
        raise B2BError(422, "poNumber must be a string")
    raw_fields = payload.get("extraFields")
    record = attach_order_via_api(
        state,
        bc_order_id=bc_order_id,
        customer_id=customer_id,
        now=ctx.now,
        po_number=po_number,
        extra_fields=extra_fields_of(raw_fields) if raw_fields is not None else (),
    )
    return b2b_response(render_b2b.order(state, record, state.orders[bc_order_id]))


@endpoint
async def order_products(request: Request, ctx: Context) -> Response:
    """`GET /orders/{bcOrderId}/products`."""
    message = "The order does not exist."
    state = ctx.state
    _, source = _pair(state, path_int(request, "bcOrderId", message), message)
    return b2b_response([render_b2b.order_product(p, source) for p in source.products])


@endpoint
async def extra_fields(request: Request, ctx: Context) -> Response:
    """`GET /orders/extra-fields`: the store's order extra-field configurations."""
    offset, limit = Query(request).page(max_limit=MAX_LIMIT)
    return page_of(ORDER_EXTRA_FIELDS, offset, limit, render_b2b.order_extra_field_config)


routes: list[BaseRoute] = [
    Route("/orders", list_orders, methods=["GET"]),
    Route("/orders", create_order, methods=["POST"]),
    Route("/orders/extra-fields", extra_fields, methods=["GET"]),
    Route("/orders/{bcOrderId}", get_order, methods=["GET"]),
    Route("/orders/{bcOrderId}", update_order, methods=["PUT"]),
    Route("/orders/{bcOrderId}/products", order_products, methods=["GET"]),
]
