"""The dashboard's HTML pages (Jinja2, server-rendered; htmx refreshes the overview and loads
the reconciliation report). Each page renders the dict its `/api/` twin answers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from b2bsync.domain.order_type import OrderType
from b2bsync.domain.sync_state import SyncState
from b2bsync.web import views
from b2bsync.web.access import SESSION_COOKIE
from b2bsync.web.actions import ActionError, act_on_dead_letters, reconciliation
from b2bsync.web.dashboard import Dashboard
from b2bsync.web.guard import read_post, require_login
from b2bsync.web.params import FILTER_NAMES, order_query, positive_int

__all__ = ["TEMPLATES", "login_router", "pages_router"]

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))


def _when(value: str | None) -> str:
    """An ISO 8601 timestamp as `YYYY-MM-DD HH:MM` UTC, for tables."""
    if not value:
        return "–"
    try:
        moment = datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M")


def _duration(seconds: float | None) -> str:
    """Seconds as `42 s`, `7 min` or `3.5 h`."""
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _url_breaks(url: str) -> Markup:
    """`url` escaped, with line-break opportunities after its separators only, so a long URL
    wraps at `/`, `?` and `&` rather than in the middle of a word."""
    text = str(escape(url))
    for separator in ("/", "?", "&amp;"):
        text = text.replace(separator, separator + "<wbr>")
    return Markup(text)  # noqa: S704 - built from escaped text and literal <wbr> only


def _label(code: str) -> str:
    """A code as people read it: `pending_classification` -> `pending classification`."""
    return code.replace("_", " ")


PROCESSING_STATUSES = {
    0: "Incomplete",
    1: "Awaiting processing",
    2: "Processing",
    3: "Completed",
    4: "Refunded",
}
"""B2B Edition's payment processing statuses (the Invoice Portal's payment API)."""

PAYMENT_METHODS = {
    "payments_bigcommerce_sales_order": "Store checkout",
    "payments_offline": "Offline payment",
}
"""The `moduleName`s B2B Edition is seen to write, as the Invoice Portal names them."""


def _processing_status(code: int | None) -> str:
    """A payment's processing status as a word: `3` -> `Completed`."""
    if code is None:
        return "–"
    return PROCESSING_STATUSES.get(code, f"status {code}")


def _payment_method(module_name: str | None) -> str:
    """A payment's module as people know it: `payments_offline` -> `Offline payment`."""
    if not module_name:
        return "–"
    return PAYMENT_METHODS.get(module_name, _label(module_name.removeprefix("payments_")))


TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["processing_status"] = _processing_status
TEMPLATES.env.filters["payment_method"] = _payment_method
TEMPLATES.env.filters["label"] = _label
TEMPLATES.env.filters["url_breaks"] = _url_breaks
TEMPLATES.env.filters["duration"] = _duration


def _render(
    request: Request, dashboard: Dashboard, name: str, status: int = 200, **context: Any
) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {"csrf_token": dashboard.access.csrf_token, "protected": dashboard.access.protected}
        | context,
        status_code=status,
    )


def pages_router(dashboard: Dashboard) -> APIRouter:
    """The pages, guarded by the dashboard's credentials."""
    router = APIRouter(
        include_in_schema=False, dependencies=[Depends(require_login(dashboard.access))]
    )

    async def stores() -> list[str]:
        return await views.known_stores(dashboard)

    @router.get("/")
    async def overview(request: Request, store: str | None = None) -> HTMLResponse:
        chosen = views.chosen_store(dashboard, store)
        shown = await views.overview(dashboard, chosen, datetime.now(UTC))
        return _render(
            request, dashboard, "overview.html", o=shown, stores=await stores(), store=chosen
        )

    @router.get("/overview/live")
    async def overview_live(request: Request, store: str | None = None) -> HTMLResponse:
        shown = await views.overview(dashboard, store or None, datetime.now(UTC))
        return _render(request, dashboard, "overview_live.html", o=shown, store=store)

    @router.get("/orders")
    async def orders(request: Request) -> HTMLResponse:
        query = order_query(request.query_params, dashboard.store)
        found = await views.order_list(dashboard, query.filters, query.page, query.page_size)

        def page_link(page: int) -> str:
            return "/orders?" + urlencode(query.values | {"page": str(page)})

        return _render(
            request,
            dashboard,
            "orders.html",
            found=found,
            values=query.values | {"store": query.filters.store or ""},
            problems=query.problems,
            page_link=page_link,
            stores=await stores(),
            types=[kind.value for kind in OrderType],
            states=[state.value for state in SyncState],
            filter_names=FILTER_NAMES,
        )

    @router.get("/orders/{store}/{order_id}")
    async def order(request: Request, store: str, order_id: int) -> HTMLResponse:
        shown = await views.order_page(dashboard, store, order_id)
        if shown is None:
            return _render(
                request,
                dashboard,
                "message.html",
                404,
                title="Not found",
                message=f"Order {order_id} of store {store} is not in the ledger.",
            )
        return _render(request, dashboard, "order.html", order=shown)

    @router.get("/invoices")
    async def invoices(
        request: Request,
        store: str | None = None,
        page: str | None = None,
        payments_page: str | None = None,
    ) -> HTMLResponse:
        known = await stores()
        chosen = store or dashboard.store or (known[0] if known else None)
        shown = (
            await views.invoice_list(
                dashboard, chosen, positive_int(page, 1), positive_int(payments_page, 1)
            )
            if chosen is not None
            else None
        )
        return _render(
            request,
            dashboard,
            "invoices.html",
            shown=shown,
            store=chosen,
            stores=known,
            actions=dashboard.contexts is not None,
        )

    @router.get("/invoices/reconcile")
    async def reconcile(request: Request, store: str, days: int = 7) -> HTMLResponse:
        try:
            report: dict[str, Any] | None = await reconciliation(dashboard, store, days)
            problem = None
        except ActionError as error:
            report, problem = None, str(error)
        return _render(
            request, dashboard, "reconcile.html", report=report, problem=problem, days=days
        )

    @router.get("/failures")
    async def failures(
        request: Request, store: str | None = None, notice: str | None = None
    ) -> HTMLResponse:
        # Like the other pages: the dashboard's own store unless another (or all) is asked for.
        chosen = views.chosen_store(dashboard, store)
        shown = await views.failures(dashboard, chosen)
        return _render(
            request,
            dashboard,
            "failures.html",
            f=shown,
            store=chosen or "",
            stores=await stores(),
            notice=notice,
        )

    @router.post("/failures/{action}")
    async def act(request: Request, action: str) -> Response:
        fields = await read_post(request, dashboard.access)
        if action not in ("retry", "skip"):
            return _render(
                request, dashboard, "message.html", 404, title="Not found", message=action
            )
        try:
            done = await act_on_dead_letters(dashboard, action, fields)
        except ActionError as error:
            notice = f"Nothing done: {error}"
        else:
            notice = (
                f"Skipped {done['skipped']} dead letter(s)."
                if action == "skip"
                else f"Queued {done['queued']} dead letter(s) again: {done['delivered']} "
                f"delivered, {done['retried']} to retry, {done['dead']} dead again."
            )
        back = {"notice": notice}
        if fields.get("return_store"):
            back["store"] = str(fields["return_store"])
        return RedirectResponse("/failures?" + urlencode(back), status_code=303)

    @router.get("/alerts")
    async def alerts(request: Request, store: str | None = None) -> HTMLResponse:
        chosen = views.chosen_store(dashboard, store)
        shown = await views.alerts(dashboard, chosen)
        return _render(
            request, dashboard, "alerts.html", a=shown, store=chosen or "", stores=await stores()
        )

    @router.get("/settings")
    async def settings(request: Request) -> HTMLResponse:
        return _render(request, dashboard, "settings.html", s=views.settings_view(dashboard))

    return router


def login_router(dashboard: Dashboard) -> APIRouter:
    """`/login` (a form for the token; it sets the session cookie) and `/logout`."""
    router = APIRouter(include_in_schema=False)
    access = dashboard.access

    @router.get("/login")
    async def login_form(request: Request) -> HTMLResponse:
        return _render(request, dashboard, "login.html", failed=False)

    @router.post("/login")
    async def login(request: Request) -> Response:
        fields = await read_post(request, access)
        token = str(fields.get("token", ""))
        session = access.session
        if session is None or not access.bearer_ok(f"Bearer {token}"):
            return _render(request, dashboard, "login.html", 401, failed=True)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        await read_post(request, access)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    return router
