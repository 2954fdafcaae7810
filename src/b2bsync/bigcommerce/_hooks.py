"""V3 webhooks: `/v3/hooks` and `/v3/hooks/admin`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from b2bsync.bigcommerce._decode import parse
from b2bsync.bigcommerce._envelope import data_object
from b2bsync.bigcommerce._http import ApiHttp, ApiResponse
from b2bsync.bigcommerce._metafields import v3_query
from b2bsync.bigcommerce._pagination import flatten, v3_pages
from b2bsync.bigcommerce.models.hooks import HooksAdmin, Webhook

__all__ = ["HooksApi"]


class HooksApi:
    """The webhooks of the calling token's client id."""

    def __init__(self, http: ApiHttp) -> None:
        self._http = http

    async def iterate(
        self, filters: Mapping[str, Any] | None = None, *, page_size: int = 250
    ) -> AsyncIterator[Webhook]:
        """Every hook (filters: `is_active`, `scope`, `destination`)."""

        async def fetch(params: dict[str, Any]) -> ApiResponse:
            return await self._http.get("/v3/hooks", operation="v3.hooks.list", params=params)

        async for item in flatten(v3_pages(fetch, v3_query(filters), limit=page_size)):
            yield parse(Webhook, item, "v3.hooks.list")

    async def get(self, hook_id: int) -> Webhook:
        """One hook."""
        response = await self._http.get(f"/v3/hooks/{hook_id}", operation="v3.hooks.get")
        return parse(Webhook, data_object(response.body), "v3.hooks")

    async def create(
        self,
        *,
        scope: str,
        destination: str,
        is_active: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> Webhook:
        """Register a hook; `headers` are sent back with every callback (authenticate them)."""
        body: dict[str, Any] = {"scope": scope, "destination": destination, "is_active": is_active}
        if headers is not None:
            body["headers"] = dict(headers)
        response = await self._http.request(
            "POST", "/v3/hooks", operation="v3.hooks.create", json_body=body
        )
        return parse(Webhook, data_object(response.body), "v3.hooks")

    async def update(self, hook_id: int, changes: Mapping[str, Any]) -> Webhook:
        """Change a hook, e.g. `{"is_active": True}` to reactivate it."""
        response = await self._http.request(
            "PUT", f"/v3/hooks/{hook_id}", operation="v3.hooks.update", json_body=changes
        )
        return parse(Webhook, data_object(response.body), "v3.hooks")

    async def delete(self, hook_id: int) -> Webhook:
        """Delete a hook; BigCommerce answers with the deleted hook."""
        response = await self._http.request(
            "DELETE", f"/v3/hooks/{hook_id}", operation="v3.hooks.delete"
        )
        return parse(Webhook, data_object(response.body), "v3.hooks")

    async def admin(self, *, is_active: bool | None = None) -> HooksAdmin:
        """Hook statuses (including deactivated), notification emails and blocked domains."""
        params = {"is_active": is_active} if is_active is not None else None
        response = await self._http.get(
            "/v3/hooks/admin", operation="v3.hooks.admin", params=params
        )
        return parse(HooksAdmin, data_object(response.body), "v3.hooks.admin")

    async def set_admin_emails(self, emails: Sequence[str]) -> None:
        """Set who is told about deactivated hooks and blocked domains."""
        await self._http.request(
            "PUT",
            "/v3/hooks/admin",
            operation="v3.hooks.admin_update",
            json_body={"emails": list(emails)},
        )
