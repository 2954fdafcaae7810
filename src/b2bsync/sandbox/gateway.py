"""The sandbox's front door, a pure ASGI middleware in front of every route.

For each request it works out the API family and store from the path (and `X-Store-Hash` for
B2B Edition), checks `X-Auth-Token`, adds the configured latency, injects faults, meters the
rate limit (429 + headers when exhausted, headers on every answer) and counts the request.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from b2bsync.sandbox.actions import run_all_due
from b2bsync.sandbox.config import (
    B2B_QUOTA_PER_MINUTE,
    B2B_WINDOW_MS,
    STORE_QUOTA_PER_WINDOW,
    STORE_WINDOW_MS,
)
from b2bsync.sandbox.errors import AdminError, B2BError, SandboxError, V2Error, V3Error
from b2bsync.sandbox.faults import FaultInjector, FaultKind
from b2bsync.sandbox.limits import FixedWindowLimiter, b2b_api_headers, store_api_headers
from b2bsync.sandbox.responses import error_response, json_response
from b2bsync.sandbox.stats import Stats
from b2bsync.sandbox.world import World


class Family(StrEnum):
    V2 = "v2"
    V3 = "v3"
    B2B = "b2b"
    ADMIN = "admin"


_FAMILY_ERRORS: Mapping[Family, Callable[[int, str], SandboxError]] = {
    Family.V2: V2Error,
    Family.V3: V3Error,
    Family.B2B: B2BError,
    Family.ADMIN: AdminError,
}

_STORE_PATH = re.compile(r"^/stores/(?P<hash>[^/]+)/(?P<version>v2|v3)(?:/|$)")
B2B_PREFIX = "/b2b/api/v3/io"
ADMIN_PREFIX = "/__sandbox"


@dataclass(slots=True)
class StoreMeters:
    """The two quotas of one store: store API (V2 + V3 share it) and B2B Edition."""

    store_api: FixedWindowLimiter
    b2b_api: FixedWindowLimiter


def error_for(family: Family, status: int, message: str) -> Response:
    """An error in the family's own shape."""
    error = _FAMILY_ERRORS[family](status, message)
    return error_response(error)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class Gateway:
    """ASGI middleware; `world`, meters, faults and stats live on it for the admin routes."""

    def __init__(self, app: ASGIApp, world: World) -> None:
        self.app = app
        self.world = world
        config = world.config
        self.meters = {
            store_hash: StoreMeters(
                FixedWindowLimiter(STORE_QUOTA_PER_WINDOW[config.plan], STORE_WINDOW_MS),
                FixedWindowLimiter(B2B_QUOTA_PER_MINUTE, B2B_WINDOW_MS),
            )
            for store_hash in world.stores
        }
        self.faults = FaultInjector(config.faults, config.seed)
        self.stats = Stats()
        self._token = config.token.encode()

    def _authorised(self, scope: Scope) -> bool:
        given = _header(scope, b"x-auth-token")
        return given is not None and hmac.compare_digest(given.encode(), self._token)

    def _route(self, scope: Scope) -> tuple[Family, str | None] | None:
        path: str = scope["path"]
        if match := _STORE_PATH.match(path):
            return Family(match["version"]), match["hash"]
        if path == B2B_PREFIX or path.startswith(B2B_PREFIX + "/"):
            return Family.B2B, _header(scope, b"x-store-hash")
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            return Family.ADMIN, _header(scope, b"x-store-hash") or self.world.config.store_hash
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        routed = self._route(scope)
        if routed is None:
            await json_response({"status": 404, "title": "Not Found"}, 404)(scope, receive, send)
            return
        family, store_hash = routed
        if not self._authorised(scope):
            await error_for(family, 401, "Unauthorized: a valid X-Auth-Token is required.")(
                scope, receive, send
            )
            return
        store = self.world.store(store_hash) if store_hash else None
        if store is None:
            status, message = (
                (401, "X-Store-Hash is missing or names no store.")
                if family is Family.B2B
                else (404, "Store not found.")
            )
            await error_for(family, status, message)(scope, receive, send)
            return
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        state["store"] = store
        state["world"] = self.world
        state["gateway"] = self
        run_all_due(self.world)
        if family is Family.ADMIN:
            await self.app(scope, receive, send)
            return
        await self._serve_api(scope, receive, send, family, store.store_hash)

    async def _serve_api(
        self, scope: Scope, receive: Receive, send: Send, family: Family, store_hash: str
    ) -> None:
        latency_ms = self.world.config.latency_ms
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        fault = self.faults.pick()
        if fault is not None:
            self.stats.faults += 1
            if fault.kind is FaultKind.SLOW:
                await asyncio.sleep(fault.delay_s)
            elif fault.kind is FaultKind.DROP:
                await _drop_connection(send)
                return
            else:
                self.stats.record("fault", fault.status)
                # A bare 429 (load shedding) and 5xx carry no rate-limit headers at all.
                await error_for(family, fault.status, "Injected fault.")(scope, receive, send)
                return
        meters = self.meters[store_hash]
        limiter = meters.b2b_api if family is Family.B2B else meters.store_api
        decision = limiter.take()
        headers = b2b_api_headers(decision) if family is Family.B2B else store_api_headers(decision)
        if not decision.allowed:
            self.stats.record(f"{scope['method']} throttled", 429)
            response = error_for(family, 429, "Too many requests: the rate limit is exhausted.")
            response.raw_headers.extend(headers)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, _with_headers(send, headers, self._recorder(scope, family)))

    def _recorder(self, scope: Scope, family: Family) -> Callable[[int], None]:
        def record(status: int) -> None:
            # Named by route template ("GET v2 /orders/{order_id}"), not by concrete path.
            route = scope.get("route")
            template = getattr(route, "path", None) or "(unmatched)"
            self.stats.record(f"{scope['method']} {family} {template}", status)

        return record


def _with_headers(
    send: Send, headers: list[tuple[bytes, bytes]], on_status: Callable[[int], None]
) -> Callable[[Message], Awaitable[None]]:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *headers]
            on_status(message["status"])
        await send(message)

    return wrapped


async def _drop_connection(send: Send) -> None:
    """Promise a body, then end the exchange without it: the client sees a broken response."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b'[{"id":', "more_body": False})
