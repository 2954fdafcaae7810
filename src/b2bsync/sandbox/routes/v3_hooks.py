"""V3 webhooks management (webhooks.v3.yml): `/hooks`, `/hooks/{id}`, `/hooks/admin`."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from b2bsync.sandbox.errors import V3_ERROR_TYPE, SandboxError, V3Error
from b2bsync.sandbox.hooks import (
    create_hook,
    hook_status,
    render_hook,
    update_hook,
)
from b2bsync.sandbox.models import Hook
from b2bsync.sandbox.responses import json_response, no_content
from b2bsync.sandbox.routes.endpoint import Context, endpoint, read_json
from b2bsync.sandbox.webhooks import WebhookDispatcher
from b2bsync.sandbox.world import StoreState

DEFAULT_LIMIT = 50
MAX_LIMIT = 250
_INPUT_INVALID = "Input is invalid."


async def _object_body(request: Request) -> dict[str, Any]:
    invalid = SandboxError(
        400, {"status": 400, "title": _INPUT_INVALID, "type": V3_ERROR_TYPE}, _INPUT_INVALID
    )
    body: dict[str, Any] = await read_json(request, invalid, not_object=invalid)
    return body


def _own_hooks(state: StoreState, client_id: str) -> list[Hook]:
    # Hooks made with one token are invisible to another ([WHdoc]).
    return [hook for hook in state.hooks.values() if hook.client_id == client_id]


def _bool_param(raw: str | None) -> bool | None:
    if raw is None:
        return None
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError(raw)


@endpoint
async def hooks(request: Request, ctx: Context) -> Response:
    """`GET /hooks` (filters page, limit, is_active, scope, destination) and `POST /hooks`."""
    state, client_id = ctx.state, ctx.client_id
    if request.method == "POST":
        body = await _object_body(request)
        hook = create_hook(state, client_id=client_id, body=body, now=ctx.now)
        return json_response({"data": render_hook(hook), "meta": {}})
    params = request.query_params
    try:
        is_active = _bool_param(params.get("is_active"))
        page = int(params.get("page", 1))
        limit = int(params.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise V3Error(
            422, "Invalid query parameters", {"query": "page, limit or is_active."}
        ) from None
    if page < 1 or not 1 <= limit <= MAX_LIMIT:
        raise V3Error(422, "Invalid query parameters", {"limit": f"1..{MAX_LIMIT}; page >= 1"})
    found = [
        hook
        for hook in _own_hooks(state, client_id)
        if (is_active is None or hook.is_active == is_active)
        and (params.get("scope") is None or hook.scope == params["scope"])
        and (params.get("destination") is None or hook.destination == params["destination"])
    ]
    start = (page - 1) * limit
    items = found[start : start + limit]
    base = [(k, v) for k, v in params.multi_items() if k not in ("page", "limit")]
    links = {"current": "?" + urlencode([*base, ("page", page), ("limit", limit)])}
    if page > 1:
        links["previous"] = "?" + urlencode([*base, ("page", page - 1), ("limit", limit)])
    if start + limit < len(found):
        links["next"] = "?" + urlencode([*base, ("page", page + 1), ("limit", limit)])
    return json_response(
        {
            "data": [render_hook(hook) for hook in items],
            "meta": {
                "pagination": {
                    "total": len(found),
                    "count": len(items),
                    "per_page": limit,
                    "current_page": page,
                    "total_pages": max(1, math.ceil(len(found) / limit)),
                    "links": links,
                }
            },
        }
    )


@endpoint
async def hook(request: Request, ctx: Context) -> Response:
    """`GET|PUT|DELETE /hooks/{webhook_id}`; DELETE answers 200 with the deleted hook."""
    state, client_id = ctx.state, ctx.client_id
    raw_id = request.path_params["webhook_id"]
    found = state.hooks.get(int(raw_id)) if raw_id.isdigit() else None
    if found is None or found.client_id != client_id:
        title = f"Webhook with id [{raw_id}] not found"
        raise SandboxError(404, {"status": 404, "title": title, "type": V3_ERROR_TYPE}, title)
    if request.method == "DELETE":
        del state.hooks[found.id]
    elif request.method == "PUT":
        body = await _object_body(request)
        update_hook(found, state, body=body, now=ctx.now)
    return json_response({"data": render_hook(found), "meta": {}})


@endpoint
async def hooks_admin(request: Request, ctx: Context) -> Response:
    """`GET /hooks/admin` (emails, hooks with status, blocked domains); `PUT` sets emails."""
    state, client_id = ctx.state, ctx.client_id
    if request.method == "PUT":
        body = await _object_body(request)
        emails = body.get("emails")
        if not isinstance(emails, list) or not all(
            isinstance(email, str) and "@" in email for email in emails
        ):
            raise V3Error(
                422, "JSON data is missing or invalid", {"emails": "a list of email addresses."}
            )
        state.hook_emails = list(emails)
        return no_content()
    try:
        is_active = _bool_param(request.query_params.get("is_active"))
    except ValueError:
        raise V3Error(422, "Invalid query parameters", {"is_active": "true or false."}) from None
    listed = [
        {**render_hook(hook), "status": hook_status(hook)}
        for hook in _own_hooks(state, client_id)
        if is_active is None or hook.is_active == is_active
    ]
    dispatcher: WebhookDispatcher = request.app.state.webhooks
    return json_response(
        {
            "data": {
                "emails": state.hook_emails,
                "hooks_list": listed,
                "blocked_domains": dispatcher.blocked_domains(client_id),
            },
            "meta": {},
        }
    )


routes: list[BaseRoute] = [
    Route("/hooks", hooks, methods=["GET", "POST"]),
    Route("/hooks/admin", hooks_admin, methods=["GET", "PUT"]),
    Route("/hooks/{webhook_id}", hook, methods=["GET", "PUT", "DELETE"]),
]
