"""V3 webhook subscriptions: validation, limits and scope matching (webhooks.v3.yml, [WHdoc]).

The sandbox departs from BigCommerce in one place on purpose: besides HTTPS on port 443 it
accepts `http(s)://127.0.0.1|localhost|[::1]` on any port, so tests and the demo can receive
callbacks on loopback.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from b2bsync.sandbox.errors import V3Error
from b2bsync.sandbox.models import Hook
from b2bsync.sandbox.world import StoreState

MAX_HOOKS_PER_SCOPE = 10
MAX_HEADERS = 64
MAX_HEADER_NAME_BYTES = 64
MAX_HEADER_VALUE_BYTES = 8 * 1024
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

KNOWN_SCOPES: frozenset[str] = frozenset(
    {
        *(
            f"store/{name}"
            for name in (
                "app/uninstalled",
                "brand/metafield/created",
                "brand/metafield/deleted",
                "brand/metafield/updated",
                "cart/abandoned",
                "cart/converted",
                "cart/couponApplied",
                "cart/created",
                "cart/deleted",
                "cart/lineItem/created",
                "cart/lineItem/deleted",
                "cart/lineItem/updated",
                "cart/metafield/created",
                "cart/metafield/deleted",
                "cart/metafield/updated",
                "cart/updated",
                "category/created",
                "category/deleted",
                "category/metafield/created",
                "category/metafield/deleted",
                "category/metafield/updated",
                "category/updated",
                "channel/created",
                "channel/updated",
                "customer/address/created",
                "customer/address/deleted",
                "customer/address/updated",
                "customer/created",
                "customer/deleted",
                "customer/payment/instrument/default/updated",
                "customer/updated",
                "hook/deliveryException",
                "information/updated",
                "metafield/created",
                "metafield/deleted",
                "metafield/updated",
                "order/archived",
                "order/created",
                "order/message/created",
                "order/metafield/created",
                "order/metafield/deleted",
                "order/metafield/updated",
                "order/refund/created",
                "order/statusUpdated",
                "order/transaction/created",
                "order/transaction/updated",
                "order/updated",
                "product/created",
                "product/deleted",
                "product/inventory/order/updated",
                "product/inventory/updated",
                "product/metafield/created",
                "product/metafield/deleted",
                "product/metafield/updated",
                "product/updated",
                "shipment/created",
                "shipment/deleted",
                "shipment/updated",
                "sku/created",
                "sku/deleted",
                "sku/inventory/order/updated",
                "sku/inventory/updated",
                "sku/updated",
                "subscriber/created",
                "subscriber/deleted",
                "subscriber/updated",
                # B2B Edition (events/b2b-edition.mdx)
                "company/address/created",
                "company/address/deleted",
                "company/address/updated",
                "company/created",
                "company/deleted",
                "company/statusUpdated",
                "company/superadmin/assignmentUpdated",
                "company/updated",
                "company/user/created",
                "company/user/deleted",
                "company/user/updated",
                "quote/created",
                "quote/deleted",
                "quote/statusUpdated",
                "quote/updated",
                "superadmin/assignmentUpdated",
                "superadmin/created",
                "superadmin/deleted",
                "superadmin/updated",
            )
        )
    }
)
"""Every scope in webhooks.v3.yml and the events docs (order, catalog, cart, B2B Edition...)."""


def is_known_scope(scope: str) -> bool:
    """A documented scope, or a wildcard `a/b/*` standing for at least one documented scope."""
    if scope.endswith("/*"):
        prefix = scope[:-1]
        return any(known.startswith(prefix) for known in KNOWN_SCOPES)
    return scope in KNOWN_SCOPES


def scope_matches(hook_scope: str, event_scope: str) -> bool:
    """Exact match, or a wildcard such as `store/order/*` covering every scope below it."""
    if hook_scope.endswith("/*"):
        return event_scope.startswith(hook_scope[:-1])
    return hook_scope == event_scope


def destination_problem(destination: str) -> str | None:
    """Why a destination is refused, or None when it is acceptable."""
    try:
        parts = urlsplit(destination)
        port = parts.port
    except ValueError:
        return "destination must be a valid URL."
    host = (parts.hostname or "").lower()
    if not host:
        return "destination must be an absolute URL."
    if host in _LOOPBACK_HOSTS and parts.scheme in ("http", "https"):
        return None
    if parts.scheme != "https":
        return "destination must use HTTPS."
    if port not in (None, 443):
        return "destination must be served on port 443; custom ports are not supported."
    return None


def _check_headers(headers: Any) -> dict[str, str] | None:
    if headers is None:
        return None
    if not isinstance(headers, dict) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in headers.items()
    ):
        raise V3Error(422, "JSON data is missing or invalid", {"headers": "must map strings."})
    if len(headers) > MAX_HEADERS:
        raise V3Error(
            422, "JSON data is missing or invalid", {"headers": f"at most {MAX_HEADERS} headers."}
        )
    for name, value in headers.items():
        if len(name.encode()) > MAX_HEADER_NAME_BYTES or len(value.encode()) > (
            MAX_HEADER_VALUE_BYTES
        ):
            raise V3Error(
                422,
                "JSON data is missing or invalid",
                {"headers": f"header {name[:64]!r} is too long."},
            )
    return dict(headers)


def _validated(body: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in ("scope", "destination"):
        if name not in body:
            if not partial:
                errors[name] = "error.path.missing."
            continue
        value = body[name]
        if not isinstance(value, str) or not value:
            errors[name] = f"{name} must be a non-empty string."
        elif name == "scope" and not is_known_scope(value):
            errors[name] = f"Unknown scope {value!r}."
        elif name == "destination" and (problem := destination_problem(value)):
            errors[name] = problem
        else:
            values[name] = value
    if "is_active" in body:
        if isinstance(body["is_active"], bool):
            values["is_active"] = body["is_active"]
        else:
            errors["is_active"] = "is_active must be a boolean."
    if errors:
        raise V3Error(422, "JSON data is missing or invalid", errors)
    if "headers" in body:
        values["headers"] = _check_headers(body["headers"])
    return values


def _check_limits(
    state: StoreState, *, client_id: str, scope: str, destination: str, skip_id: int = 0
) -> None:
    same_scope = [
        hook
        for hook in state.hooks.values()
        if hook.client_id == client_id and hook.scope == scope and hook.id != skip_id
    ]
    if any(hook.destination == destination for hook in same_scope):
        raise V3Error(
            422,
            "A webhook with this scope and destination already exists.",
            {"destination": "duplicate of an existing webhook for this scope."},
        )
    if len(same_scope) >= MAX_HOOKS_PER_SCOPE:
        raise V3Error(
            422,
            f"At most {MAX_HOOKS_PER_SCOPE} webhooks per scope.",
            {"scope": f"already {MAX_HOOKS_PER_SCOPE} webhooks for this scope."},
        )


def create_hook(
    state: StoreState, *, client_id: str, body: Mapping[str, Any], now: datetime
) -> Hook:
    """Validate a `webhook_Base` body and store the hook. Raises V3Error(422)."""
    values = _validated(body, partial=False)
    _check_limits(
        state, client_id=client_id, scope=values["scope"], destination=values["destination"]
    )
    hook = Hook(
        id=state.next_id("hook", start=1),
        client_id=client_id,
        store_hash=state.store_hash,
        scope=values["scope"],
        destination=values["destination"],
        headers=values.get("headers"),
        is_active=values.get("is_active", True),
        created_at=now,
        updated_at=now,
    )
    state.hooks[hook.id] = hook
    return hook


def update_hook(hook: Hook, state: StoreState, *, body: Mapping[str, Any], now: datetime) -> Hook:
    """Apply a `webhook_Put` body; at least one field is required. Reactivating clears the
    dispatcher's deactivation. Raises V3Error(422)."""
    if not any(name in body for name in ("scope", "destination", "is_active", "headers")):
        raise V3Error(
            422, "JSON data is missing or invalid", {"body": "at least one field is required."}
        )
    values = _validated(body, partial=True)
    scope = values.get("scope", hook.scope)
    destination = values.get("destination", hook.destination)
    if (scope, destination) != (hook.scope, hook.destination):
        _check_limits(
            state,
            client_id=hook.client_id,
            scope=scope,
            destination=destination,
            skip_id=hook.id,
        )
    hook.scope, hook.destination = scope, destination
    if "headers" in values:
        hook.headers = values["headers"]
    if "is_active" in values:
        hook.is_active = values["is_active"]
        if hook.is_active:
            hook.deactivated = False
    hook.updated_at = now
    return hook


def deactivate_hook(hook: Hook, now: datetime) -> None:
    """What the dispatcher does after the last retry failed ([WHdoc])."""
    hook.is_active = False
    hook.deactivated = True
    hook.updated_at = now


def hook_status(hook: Hook) -> str:
    """`/hooks/admin` status: active, inactive (switched off) or deactivated (by failures)."""
    if hook.is_active:
        return "active"
    return "deactivated" if hook.deactivated else "inactive"


def render_hook(hook: Hook) -> dict[str, Any]:
    """A hook in V3 wire format (timestamps in unix seconds)."""
    return {
        "id": hook.id,
        "client_id": hook.client_id,
        "store_hash": hook.store_hash,
        "scope": hook.scope,
        "destination": hook.destination,
        "headers": hook.headers,
        "is_active": hook.is_active,
        "created_at": int(hook.created_at.timestamp()),
        "updated_at": int(hook.updated_at.timestamp()),
    }
