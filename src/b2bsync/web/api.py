"""The JSON admin API under `/api/`: the dashboard's data and actions for scripts (documented
in the app's OpenAPI at `/docs`). Reads are GETs; actions are POSTs that need the CSRF token
(`GET /api/csrf`) unless authenticated with the bearer token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from b2bsync.web import views
from b2bsync.web.actions import ActionError, act_on_dead_letters, reconciliation
from b2bsync.web.dashboard import Dashboard
from b2bsync.web.guard import api_error, read_post, require_login
from b2bsync.web.params import order_query, positive_int

__all__ = ["api_router"]


def api_router(dashboard: Dashboard) -> APIRouter:
    """`/api/...`, guarded by the dashboard's credentials."""
    router = APIRouter(
        prefix="/api", tags=["admin API"], dependencies=[Depends(require_login(dashboard.access))]
    )

    @router.get(
        "/overview",
        summary="Counts, lag, outbox, webhooks, rate budget, orders per day",
        description="`store`: one store; empty: every store; absent: the process's own store.",
    )
    async def overview(store: str | None = None) -> dict[str, Any]:
        chosen = views.chosen_store(dashboard, store)
        shown = await views.overview(dashboard, chosen, datetime.now(UTC))
        shown.pop("chart_svg")
        return shown

    @router.get(
        "/orders",
        summary="The order list",
        description="Filters: store, type, state, company, status, search (order id or PO "
        "prefix), from and to (YYYY-MM-DD, inclusive); page, page_size (at most 500).",
    )
    async def orders(request: Request) -> dict[str, Any]:
        query = order_query(request.query_params, dashboard.store)
        found = await views.order_list(dashboard, query.filters, query.page, query.page_size)
        return found | {"problems": list(query.problems)}

    @router.get("/orders/{store}/{order_id}", summary="One order with its whole journey")
    async def order(store: str, order_id: int) -> Response:
        shown = await views.order_page(dashboard, store, order_id)
        if shown is None:
            return api_error(404, f"order {order_id} of store {store} is not in the ledger")
        return JSONResponse(shown)

    @router.get("/invoices", summary="Invoices with open balances, and payments")
    async def invoices(store: str | None = None, page: str | None = None) -> Response:
        chosen = store or dashboard.store
        if chosen is None:
            return api_error(400, "store is required")
        return JSONResponse(await views.invoice_list(dashboard, chosen, positive_int(page, 1)))

    @router.get("/invoices/reconcile", summary="The Invoice Portal reconciliation report")
    async def reconcile(store: str | None = None, days: int = 7) -> Response:
        chosen = store or dashboard.store
        if chosen is None:
            return api_error(400, "store is required")
        try:
            return JSONResponse(await reconciliation(dashboard, chosen, days))
        except ActionError as error:
            return api_error(409, str(error))

    @router.get("/failures", summary="Dead letters and failing destinations")
    async def failures(store: str | None = None) -> dict[str, Any]:
        return await views.failures(dashboard, store or None)

    @router.post(
        "/deadletters/{action}",
        summary="Retry or skip dead letters",
        description="`action` is `retry` or `skip`. Body (JSON or form): store, and optionally "
        "order_id and destination; without order_id every dead letter of the store.",
    )
    async def act(action: str, request: Request) -> Response:
        if action not in ("retry", "skip"):
            return api_error(404, f"unknown action {action!r}; expected retry or skip")
        fields = await read_post(request, dashboard.access)
        try:
            return JSONResponse(await act_on_dead_letters(dashboard, action, fields))
        except ActionError as error:
            return api_error(400, str(error))

    @router.get("/alerts", summary="Alert conditions firing now and the newest firings")
    async def alerts(store: str | None = None) -> dict[str, Any]:
        return await views.alerts(dashboard, store or None)

    @router.get("/settings", summary="The settings in force, secrets masked")
    async def settings() -> dict[str, Any]:
        return views.settings_view(dashboard)

    @router.get("/csrf", summary="The CSRF token that POSTs without a bearer token need")
    async def csrf() -> dict[str, str]:
        return {"csrf_token": dashboard.access.csrf_token}

    return router
