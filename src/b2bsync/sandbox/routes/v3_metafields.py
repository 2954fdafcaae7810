"""V3 order metafields (orders.v3.yml): per order and batch, with page and cursor pagination."""

from __future__ import annotations

import base64
import binascii
import bisect
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from b2bsync.sandbox.errors import V3_ERROR_TYPE, SandboxError, V3Error
from b2bsync.sandbox.metafields import (
    MetafieldQuery,
    create_metafield,
    delete_metafield,
    query_metafields,
    update_metafield,
    validate_fields,
    visible_to,
)
from b2bsync.sandbox.models import Metafield
from b2bsync.sandbox.responses import json_response, no_content
from b2bsync.sandbox.routes.endpoint import Context, endpoint, read_json

DEFAULT_LIMIT = 50
MAX_LIMIT = 250
_FIELDS = (
    "key",
    "value",
    "namespace",
    "permission_set",
    "resource_type",
    "resource_id",
    "description",
    "date_created",
    "date_modified",
    "owner_client_id",
)
_PAGING_PARAMS = frozenset({"page", "before", "after", "limit"})


def render_metafield(metafield: Metafield, include: frozenset[str] | None = None) -> dict[str, Any]:
    """A metafield in V3 wire format; with `include`, only `id` and those fields."""
    body: dict[str, Any] = {
        "id": metafield.id,
        "key": metafield.key,
        "value": metafield.value,
        "namespace": metafield.namespace,
        "permission_set": metafield.permission_set,
        "resource_type": metafield.resource_type,
        "resource_id": metafield.resource_id,
        "description": metafield.description,
        "date_created": metafield.date_created.isoformat(),
        "date_modified": metafield.date_modified.isoformat(),
        "owner_client_id": metafield.owner_client_id,
    }
    if include is None:
        return body
    return {name: value for name, value in body.items() if name == "id" or name in include}


def _not_found(title: str) -> SandboxError:
    # The spec's NotFound schema types `errors` as an array.
    return SandboxError(
        404, {"status": 404, "title": title, "type": V3_ERROR_TYPE, "errors": []}, title
    )


def _bad_body(detail: str) -> SandboxError:
    return SandboxError(
        400,
        {"status": 400, "title": "Input is invalid", "type": V3_ERROR_TYPE, "detail": detail},
        detail,
    )


def _bad_query(name: str, message: str) -> V3Error:
    return V3Error(422, "Invalid query or body", {name: message})


async def _json_body(request: Request) -> Any:
    return await read_json(request, _bad_body("Syntax error"))


def _parse_date(name: str, raw: str, *, end_of_day: bool = False) -> datetime:
    """`2019-09-04`, `2019-09-04T00:00:00` or full ISO 8601; no offset means UTC."""
    try:
        parsed = datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError as exc:
        raise _bad_query(name, f"{name} must be a date like 2019-09-04T00:00:00.") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if end_of_day and len(raw.strip()) == 10:
        parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed.astimezone(UTC)


def _date_bounds(params: Any, field: str) -> tuple[datetime | None, datetime | None]:
    low = high = None
    if (exact := params.get(field)) is not None:
        low = _parse_date(field, exact)
        high = _parse_date(field, exact, end_of_day=True)
    if (raw := params.get(f"{field}:min")) is not None:
        low = _parse_date(f"{field}:min", raw)
    if (raw := params.get(f"{field}:max")) is not None:
        high = _parse_date(f"{field}:max", raw, end_of_day=True)
    return low, high


def _csv(raw: str | None) -> frozenset[str] | None:
    if raw is None:
        return None
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def _parse_query(params: Any) -> MetafieldQuery:
    keys = _csv(params.get("key:in"))
    if (key := params.get("key")) is not None:
        keys = frozenset({key}) if keys is None else keys & {key}
    namespaces = _csv(params.get("namespace:in"))
    if (namespace := params.get("namespace")) is not None:
        namespaces = frozenset({namespace}) if namespaces is None else namespaces & {namespace}
    direction = params.get("direction", "asc")
    if direction not in ("asc", "desc"):
        raise _bad_query("direction", "direction must be asc or desc.")
    created_min, created_max = _date_bounds(params, "date_created")
    modified_min, modified_max = _date_bounds(params, "date_modified")
    return MetafieldQuery(
        keys=keys,
        namespaces=namespaces,
        created_min=created_min,
        created_max=created_max,
        modified_min=modified_min,
        modified_max=modified_max,
        descending=direction == "desc",
    )


def _positive_int(params: Any, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise _bad_query(name, f"{name} must be an integer.") from exc
    if value < 1:
        raise _bad_query(name, f"{name} must be at least 1.")
    return value


def encode_cursor(metafield_id: int) -> str:
    """Opaque cursor for a position, shaped like BigCommerce's (`aWQ6Nw==` is `id:7`)."""
    return base64.b64encode(f"id:{metafield_id}".encode()).decode()


def _decode_cursor(name: str, cursor: str) -> int:
    try:
        text = base64.b64decode(cursor, validate=True).decode()
        prefix, _, number = text.partition(":")
        if prefix != "id":
            raise ValueError(text)
        return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise _bad_body(f"{name} is not a valid cursor.") from exc


def _link(base: list[tuple[str, str]], **extra: str | int) -> str:
    return "?" + urlencode([*base, *((name, str(value)) for name, value in extra.items())])


def _page(
    found: Sequence[Metafield], params: Any, include: frozenset[str] | None, descending: bool
) -> dict[str, Any]:
    limit = _positive_int(params, "limit", DEFAULT_LIMIT)
    if limit > MAX_LIMIT:
        raise _bad_query("limit", f"limit must be at most {MAX_LIMIT}.")
    before, after = params.get("before"), params.get("after")
    if before is not None and after is not None:
        raise _bad_body("before and after cannot be combined.")
    # Position along the listing order: ids ascending, or descending with direction=desc.
    sign = -1 if descending else 1
    if after is not None:
        start = bisect.bisect_right(
            found, sign * _decode_cursor("after", after), key=lambda mf: sign * mf.id
        )
    elif before is not None:
        end = bisect.bisect_left(
            found, sign * _decode_cursor("before", before), key=lambda mf: sign * mf.id
        )
        start = max(0, end - limit)
    else:
        start = (_positive_int(params, "page", 1) - 1) * limit
    items = list(found[start : start + limit])
    total = len(found)
    total_pages = max(1, math.ceil(total / limit))
    current_page = start // limit + 1
    base = [
        *((name, value) for name, value in params.multi_items() if name not in _PAGING_PARAMS),
        ("limit", str(limit)),
    ]
    page_links: dict[str, str] = {"current": _link(base, page=current_page)}
    if current_page > 1:
        page_links["previous"] = _link(base, page=current_page - 1)
    if start + limit < total:
        page_links["next"] = _link(base, page=current_page + 1)
    cursor: dict[str, Any] = {"count": len(items), "per_page": limit, "links": {}}
    if items:
        first, last = encode_cursor(items[0].id), encode_cursor(items[-1].id)
        cursor["start_cursor"], cursor["end_cursor"] = first, last
        position = {"after": after} if after else {"before": before} if before else {}
        cursor["links"]["current"] = _link(base, **position)
        if start > 0:
            cursor["links"]["previous"] = _link(base, before=first)
        if start + len(items) < total:
            cursor["links"]["next"] = _link(base, after=last)
    return {
        "data": [render_metafield(mf, include) for mf in items],
        "meta": {
            "pagination": {
                "total": total,
                "count": len(items),
                "per_page": limit,
                "current_page": current_page,
                "total_pages": total_pages,
                "links": page_links,
            },
            "cursor_pagination": cursor,
        },
    }


def _include_fields(params: Any) -> frozenset[str] | None:
    include = _csv(params.get("include_fields"))
    if include is not None and (unknown := include - set(_FIELDS)):
        raise _bad_query("include_fields", f"Unknown fields: {', '.join(sorted(unknown))}.")
    return include


def _order_id(request: Request) -> int | None:
    try:
        return int(request.path_params["order_id"])
    except ValueError:
        return None


async def _list(request: Request, ctx: Context, order_id: int | None) -> Response:
    params = request.query_params
    query = _parse_query(params)
    found = query_metafields(ctx.state, query, client_id=ctx.client_id, order_id=order_id)
    return json_response(_page(found, params, _include_fields(params), query.descending))


@endpoint
async def order_metafields(request: Request, ctx: Context) -> Response:
    """`GET|POST /orders/{order_id}/metafields`."""
    order_id = _order_id(request)
    if order_id is None or order_id not in ctx.state.orders:
        raise _not_found(f"Order {request.path_params['order_id']} not found.")
    if request.method == "GET":
        return await _list(request, ctx, order_id)
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise _bad_body("The body must be a JSON object.")
    fields = validate_fields(body, partial=False)
    metafield = create_metafield(
        ctx.state, order_id=order_id, client_id=ctx.client_id, fields=fields, now=ctx.now
    )
    return json_response({"data": render_metafield(metafield), "meta": {}})


@endpoint
async def order_metafield(request: Request, ctx: Context) -> Response:
    """`GET|PUT|DELETE /orders/{order_id}/metafields/{metafield_id}`."""
    state, client_id = ctx.state, ctx.client_id
    order_id = _order_id(request)
    try:
        metafield = state.metafields.get(int(request.path_params["metafield_id"]))
    except ValueError:
        metafield = None
    if (
        order_id is None
        or metafield is None
        or metafield.resource_id != order_id
        or not visible_to(metafield, client_id)
    ):
        raise _not_found("The metafield was not found.")
    if request.method == "GET":
        return json_response({"data": render_metafield(metafield), "meta": {}})
    if request.method == "DELETE":
        delete_metafield(state, metafield, client_id=client_id, now=ctx.now)
        return no_content()
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise _bad_body("The body must be a JSON object.")
    fields = validate_fields(body, partial=True)
    update_metafield(state, metafield, client_id=client_id, fields=fields, now=ctx.now)
    return json_response({"data": render_metafield(metafield), "meta": {}})


def _item_error(status: int, title: str, errors: dict[str, str]) -> dict[str, Any]:
    return {"status": status, "title": title, "type": V3_ERROR_TYPE, "errors": errors}


def _batch_response(data: list[Any], errors: list[dict[str, Any]]) -> Response:
    meta = {"total": len(data) + len(errors), "success": len(data), "failed": len(errors)}
    return json_response({"data": data, "errors": errors, "meta": meta}, 422 if errors else 200)


def _batch_write(ctx: Context, items: list[Any], *, create: bool) -> Response:
    state, client_id, now = ctx.state, ctx.client_id, ctx.now
    done: list[Any] = []
    errors: list[dict[str, Any]] = []
    for position, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise V3Error(422, "Each item must be a JSON object.", {"item": str(position)})
            if create:
                fields = validate_fields(item, partial=False)
                resource_id = item.get("resource_id")
                if not isinstance(resource_id, int) or isinstance(resource_id, bool):
                    raise V3Error(
                        422,
                        "JSON data is missing or invalid",
                        {"resource_id": "An order id is required."},
                    )
                metafield = create_metafield(
                    state, order_id=resource_id, client_id=client_id, fields=fields, now=now
                )
            else:
                fields = validate_fields(item, partial=True)
                metafield_id = item.get("id")
                found = (
                    state.metafields.get(metafield_id) if isinstance(metafield_id, int) else None
                )
                if found is None or not visible_to(found, client_id):
                    raise V3Error(404, "Metafield does not exist", {"id": str(metafield_id)})
                metafield = update_metafield(
                    state, found, client_id=client_id, fields=fields, now=now
                )
            done.append(render_metafield(metafield))
        except V3Error as error:
            errors.append(
                _item_error(error.status, f"Item {position}: {error.title}", error.errors)
            )
    return _batch_response(done, errors)


@endpoint
async def batch_metafields(request: Request, ctx: Context) -> Response:
    """`GET|POST|PUT|DELETE /orders/metafields`: every order's metafields at once."""
    if request.method == "GET":
        return await _list(request, ctx, None)
    body = await _json_body(request)
    if not isinstance(body, list):
        raise _bad_body("The body must be a JSON array.")
    if request.method in ("POST", "PUT"):
        return _batch_write(ctx, body, create=request.method == "POST")
    state, client_id, now = ctx.state, ctx.client_id, ctx.now
    deleted: list[Any] = []
    errors: list[dict[str, Any]] = []
    for metafield_id in body:
        metafield = state.metafields.get(metafield_id) if isinstance(metafield_id, int) else None
        if metafield is None or not visible_to(metafield, client_id):
            errors.append(
                _item_error(
                    404, "Metafield does not exist", {str(metafield_id): "Metafield does not exist"}
                )
            )
            continue
        try:
            delete_metafield(state, metafield, client_id=client_id, now=now)
        except V3Error as error:
            errors.append(_item_error(error.status, error.title, {str(metafield_id): error.title}))
            continue
        deleted.append(metafield_id)
    return _batch_response(deleted, errors)


routes: list[BaseRoute] = [
    Route("/orders/metafields", batch_metafields, methods=["GET", "POST", "PUT", "DELETE"]),
    Route("/orders/{order_id}/metafields", order_metafields, methods=["GET", "POST"]),
    Route(
        "/orders/{order_id}/metafields/{metafield_id}",
        order_metafield,
        methods=["GET", "PUT", "DELETE"],
    ),
]
