"""V3 order metafields: per order and in batch across orders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from b2bsync.bigcommerce._decode import Rejects, decode_one, parse
from b2bsync.bigcommerce._envelope import data_object
from b2bsync.bigcommerce._http import ApiHttp, ApiResponse
from b2bsync.bigcommerce._pagination import flatten, v3_cursor_pages, v3_pages
from b2bsync.bigcommerce._wire import format_iso8601
from b2bsync.bigcommerce.models.metafields import BatchResult, Metafield
from b2bsync.domain.rejects import Rejected, RejectedStream

__all__ = ["MetafieldsApi", "v3_query"]


def v3_query(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """Filters with datetimes in ISO 8601 and lists joined by commas (`key:in`)."""
    query: dict[str, Any] = {}
    for key, value in (filters or {}).items():
        if isinstance(value, datetime):
            value = format_iso8601(value)
        elif isinstance(value, list | tuple):
            value = ",".join(str(item) for item in value)
        query[key] = value
    return query


def _resource_id(raw: Any) -> int | None:
    """The order a raw metafield belongs to, when it says so plainly."""
    value = raw.get("resource_id") if isinstance(raw, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


class MetafieldsApi:
    """`/v3/orders/{order_id}/metafields` and `/v3/orders/metafields`."""

    def __init__(self, http: ApiHttp) -> None:
        self._http = http

    async def for_order(
        self, order_id: int, filters: Mapping[str, Any] | None = None, *, page_size: int = 250
    ) -> AsyncIterator[Metafield]:
        """The order's metafields visible to this token (filters: `key`, `namespace`, ...)."""

        async def fetch(params: dict[str, Any]) -> ApiResponse:
            return await self._http.get(
                f"/v3/orders/{order_id}/metafields",
                operation="v3.metafields.list",
                params=params,
            )

        async for item in flatten(v3_pages(fetch, v3_query(filters), limit=page_size)):
            yield parse(Metafield, item, "v3.metafields.list")

    async def iterate_all(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        page_size: int = 250,
        rejects: Rejects | None = None,
    ) -> AsyncIterator[Metafield]:
        """Order metafields of every order (`GET /orders/metafields`), paged by cursor. There is
        no order filter; narrow with `key`/`namespace` and match `resource_id`. A malformed one
        goes to `rejects` when given (else `BadPayload`)."""

        async def fetch(params: dict[str, Any]) -> ApiResponse:
            return await self._http.get(
                "/v3/orders/metafields", operation="v3.metafields.batch_list", params=params
            )

        async for item in flatten(v3_cursor_pages(fetch, v3_query(filters), limit=page_size)):
            if rejects is None:
                yield parse(Metafield, item, "v3.metafields.batch_list")
                continue
            decoded = decode_one(
                Metafield, item, RejectedStream.ORDER_METAFIELD, order_of=_resource_id
            )
            if isinstance(decoded, Rejected):
                rejects(decoded)
            else:
                yield decoded

    async def get(self, order_id: int, metafield_id: int) -> Metafield:
        """One metafield of an order."""
        response = await self._http.get(
            f"/v3/orders/{order_id}/metafields/{metafield_id}", operation="v3.metafields.get"
        )
        return parse(Metafield, data_object(response.body), "v3.metafields")

    async def create(
        self,
        order_id: int,
        *,
        key: str,
        value: str,
        namespace: str,
        permission_set: str = "app_only",
        description: str = "",
    ) -> Metafield:
        """Create a metafield; `Conflict` if this client already has the namespace + key."""
        body = {
            "key": key,
            "value": value,
            "namespace": namespace,
            "permission_set": permission_set,
            "description": description,
        }
        response = await self._http.request(
            "POST",
            f"/v3/orders/{order_id}/metafields",
            operation="v3.metafields.create",
            json_body=body,
        )
        return parse(Metafield, data_object(response.body), "v3.metafields")

    async def update(
        self, order_id: int, metafield_id: int, changes: Mapping[str, Any]
    ) -> Metafield:
        """Change a metafield's value, description or permission set."""
        response = await self._http.request(
            "PUT",
            f"/v3/orders/{order_id}/metafields/{metafield_id}",
            operation="v3.metafields.update",
            json_body=changes,
        )
        return parse(Metafield, data_object(response.body), "v3.metafields")

    async def delete(self, order_id: int, metafield_id: int) -> None:
        """Delete a metafield."""
        await self._http.request(
            "DELETE",
            f"/v3/orders/{order_id}/metafields/{metafield_id}",
            operation="v3.metafields.delete",
        )

    async def create_many(self, items: Sequence[Mapping[str, Any]]) -> BatchResult:
        """Create metafields on several orders (each item has `resource_id`)."""
        return await self._batch("POST", "v3.metafields.batch_create", list(items))

    async def update_many(self, items: Sequence[Mapping[str, Any]]) -> BatchResult:
        """Update metafields by `id`."""
        return await self._batch("PUT", "v3.metafields.batch_update", list(items))

    async def delete_many(self, metafield_ids: Sequence[int]) -> BatchResult:
        """Delete metafields by id."""
        return await self._batch("DELETE", "v3.metafields.batch_delete", list(metafield_ids))

    async def _batch(self, method: str, operation: str, body: list[Any]) -> BatchResult:
        response = await self._http.request(
            method, "/v3/orders/metafields", operation=operation, json_body=body
        )
        return BatchResult.model_validate(response.body if isinstance(response.body, dict) else {})
