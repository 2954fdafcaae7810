"""`POST /webhooks/bigcommerce[/{store_hash}]`: the HTTP face of the webhook intake. The intake
itself (authentication, size cap, signature, parsing, the change feed) is
`b2bsync.sync.webhooks.intake.WebhookIntake`; this router only hands it the request's headers
and body stream and turns its verdict into a response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from b2bsync.sync.webhooks.intake import (
    INTAKE_PATH,
    MAX_HASH_CHARS,
    WebhookIntake,
    store_intake_path,
)

__all__ = ["CALLBACK_SCHEMA", "intake_router"]


CALLBACK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["scope", "store_id", "data", "hash", "created_at", "producer"],
    "properties": {
        "scope": {"type": "string", "example": "store/order/created"},
        "store_id": {"type": "string"},
        "data": {
            "type": "object",
            "properties": {
                "type": {"type": "string"},
                "id": {"type": "integer"},
                "resource_id": {"type": "string"},
            },
        },
        "hash": {"type": "string", "maxLength": MAX_HASH_CHARS},
        "created_at": {"type": "integer"},
        "producer": {"type": "string"},
    },
}
"""The callback body, as BigCommerce documents it (specs/webhook-callbacks)."""


def intake_router(intake: WebhookIntake, *, bare_path: bool = True) -> APIRouter:
    """`POST /webhooks/bigcommerce/{store_hash}` for `intake`'s store, and with `bare_path`
    (a single store) `POST /webhooks/bigcommerce` too."""
    router = APIRouter()
    paths = [store_intake_path(intake.settings.store)] + ([INTAKE_PATH] if bare_path else [])

    async def receive(request: Request) -> Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        result = await intake.receive(headers, request.stream())
        if result.status != 200:
            return JSONResponse({"error": result.verdict.value}, status_code=result.status)
        return JSONResponse({"status": result.verdict.value})

    for path in paths:
        _add_intake_route(router, path, intake, receive)
    return router


def _add_intake_route(
    router: APIRouter,
    path: str,
    intake: WebhookIntake,
    receive: Callable[[Request], Awaitable[Response]],
) -> None:
    router.add_api_route(
        path,
        receive,
        methods=["POST"],
        summary=f"Receive a BigCommerce webhook callback of store {intake.settings.store}",
        openapi_extra={
            "parameters": [
                {
                    "name": intake.settings.header,
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": CALLBACK_SCHEMA}},
            },
        },
        responses={
            200: {"description": "Written to the change feed (or a duplicate, or ignored)"},
            400: {"description": "Not a callback of this store (recorded)"},
            401: {"description": "Not authenticated"},
            413: {"description": "Body too large"},
        },
    )
