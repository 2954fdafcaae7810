"""`POST /push/{orders|shipments|invoices}`: the ERP → BigCommerce push over HTTP.

The body is JSONL (one object a line) or CSV (`Content-Type: text/csv`), exactly like the files
of `b2bsync push`; the answer is the push report. Authenticated with
`Authorization: Bearer <token>`, compared in constant time. Mount it with
`app.include_router(inbound_router(contexts, token))`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import SecretStr

from b2bsync.sync.context import SyncContext
from b2bsync.sync.loopback.inbound import (
    PushKind,
    parse_rows,
    push_invoices,
    push_orders,
    push_shipments,
)

__all__ = ["MAX_PUSH_BYTES", "PUSH_PATH", "inbound_router"]

PUSH_PATH = "/push/{kind}"
MAX_PUSH_BYTES = 10 * 1024 * 1024
"""Larger files go through the CLI."""

_PUSHERS = {
    PushKind.ORDERS: push_orders,
    PushKind.SHIPMENTS: push_shipments,
    PushKind.INVOICES: push_invoices,
}


def inbound_router(
    contexts: Callable[[], AbstractAsyncContextManager[SyncContext]], token: SecretStr
) -> APIRouter:
    """The push endpoint; `contexts()` opens the store's `SyncContext` for one request.
    Answers 200 when every row went through (created or unchanged), 422 when some rows are bad
    (the good ones are applied; the report names the bad ones by line), 401 without the token."""
    router = APIRouter()
    expected = f"Bearer {token.get_secret_value()}".encode()

    @router.post(
        PUSH_PATH,
        summary="Push ERP orders, shipments or invoices (JSONL or CSV)",
        responses={
            200: {"description": "Every row applied or already there"},
            401: {"description": "Missing or wrong bearer token"},
            404: {"description": "Unknown kind"},
            413: {"description": "Body too large"},
            422: {"description": "Some rows are bad; the others were applied"},
        },
    )
    async def push(kind: str, request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        try:
            chosen = PushKind(kind)
        except ValueError:
            return JSONResponse({"error": f"unknown kind {kind!r}"}, status_code=404)
        body = await request.body()
        if len(body) > MAX_PUSH_BYTES:
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            return JSONResponse({"error": "the body must be UTF-8"}, status_code=400)
        content_type = request.headers.get("content-type", "")
        fmt: Literal["jsonl", "csv"] = "csv" if "csv" in content_type else "jsonl"
        rows = parse_rows(text, chosen, fmt)
        async with contexts() as ctx:
            report = await _PUSHERS[chosen](ctx, rows)
        return JSONResponse(report.as_json(), status_code=422 if report.failed else 200)

    return router
