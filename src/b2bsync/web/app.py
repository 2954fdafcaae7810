"""The ASGI app (`create_app`): `/healthz`, `/readyz`, `/metrics`, the webhook intake, the
dashboard and its `/api/`, and the background services that belong to the serving process
(micro-batcher, watchdog), started and stopped with it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Receive, Scope, Send

from b2bsync import __version__
from b2bsync.sync.webhooks.intake import WebhookIntake
from b2bsync.web.api import api_router
from b2bsync.web.dashboard import Dashboard
from b2bsync.web.guard import Forbidden, NotAuthenticated, require_login
from b2bsync.web.intake import intake_router
from b2bsync.web.metrics import set_quarantined
from b2bsync.web.pages import TEMPLATES, login_router, pages_router

__all__ = ["DEFAULT_MAX_REQUEST_BYTES", "BodySizeLimit", "create_app"]

log = structlog.get_logger("b2bsync.web")

DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024
"""Largest request body any route accepts (the intake sets its own, smaller limit)."""


class BodySizeLimit:
    """Answers 413 to a request that declares a body over `limit` bytes, before the app runs.

    Bodies without a declared length are bounded by the route that reads them.
    """

    def __init__(self, app: ASGIApp, limit: int = DEFAULT_MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 413,
                            "headers": [(b"content-type", b"application/json")],
                        }
                    )
                    await send({"type": "http.response.body", "body": b'{"error":"too_large"}'})
                    return
        await self.app(scope, receive, send)


def _report_crash(task: asyncio.Task[None]) -> None:
    """A background service that dies would otherwise go unnoticed until shutdown."""
    if not task.cancelled() and task.exception() is not None:
        log.error("web.service_crashed", task=task.get_name(), error=repr(task.exception()))


def create_app(
    *,
    intakes: Sequence[WebhookIntake] = (),
    services: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    dashboard: Dashboard | None = None,
) -> FastAPI:
    """The app; `intakes` receive their store's callbacks at `/webhooks/bigcommerce/{store}`
    (a single one at `/webhooks/bigcommerce` too); `services` are long-running coroutines
    started with the app and cancelled when it stops (e.g. `MicroBatcher.run`, `Watchdog.run`).
    With `dashboard`, it also serves the dashboard's pages, `/api/` and a `/readyz` that checks
    the database."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(service()) for service in services]
        for task in tasks:
            task.add_done_callback(_report_crash)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    protected = dashboard is not None and dashboard.access.protected
    # With credentials, the API's documentation is served behind them too (below).
    app = FastAPI(
        title="b2bsync",
        version=__version__,
        lifespan=lifespan,
        openapi_url=None if protected else "/openapi.json",
        docs_url=None if protected else "/docs",
        redoc_url=None,
    )

    @app.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness: the ledger database answers")
    async def readyz() -> Response:
        if dashboard is not None:
            try:
                async with dashboard.db.transaction(readonly=True) as tx:
                    await tx.connection.execute(text("SELECT 1"))
            except Exception as error:  # any failure means "not ready", never a 500
                log.warning("web.not_ready", error=type(error).__name__)
                return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    guard = [Depends(require_login(dashboard.access))] if dashboard is not None else []

    @app.get("/metrics", summary="Prometheus metrics", dependencies=guard)
    async def metrics() -> Response:
        if dashboard is not None:
            async with dashboard.db.transaction(readonly=True) as tx:
                set_quarantined(await tx.quarantine.counts_by_store())
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    if dashboard is not None:
        _mount_dashboard(app, dashboard)
    for intake in intakes:
        app.include_router(intake_router(intake, bare_path=len(intakes) == 1))
    app.add_middleware(BodySizeLimit, limit=max_request_bytes)
    return app


def _mount_dashboard(app: FastAPI, dashboard: Dashboard) -> None:
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> RedirectResponse:
        # Browsers ask for /favicon.ico whatever the page links; the icon is an SVG.
        return RedirectResponse("/static/favicon.svg", status_code=301)

    app.include_router(login_router(dashboard))
    app.include_router(api_router(dashboard))
    app.include_router(pages_router(dashboard))
    if dashboard.access.protected:
        guard = [Depends(require_login(dashboard.access))]

        @app.get("/openapi.json", include_in_schema=False, dependencies=guard)
        async def openapi() -> JSONResponse:
            return JSONResponse(app.openapi())

        @app.get("/docs", include_in_schema=False, dependencies=guard)
        async def docs() -> Response:
            return get_swagger_ui_html(openapi_url="/openapi.json", title="b2bsync API")

    challenge = 'Basic realm="b2bsync"' if dashboard.access.user else "Bearer"

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, _: Exception) -> Response:
        machine = ("/api/", "/metrics", "/openapi.json")
        if request.url.path.startswith(machine) or dashboard.access.token is None:
            return JSONResponse(
                {"error": "authentication required"},
                status_code=401,
                headers={"WWW-Authenticate": challenge},
            )
        return TEMPLATES.TemplateResponse(
            request,
            "login.html",
            {"failed": False, "csrf_token": dashboard.access.csrf_token, "protected": True},
            status_code=401,
        )

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, error: Exception) -> Response:
        reason = error.reason if isinstance(error, Forbidden) else "forbidden"
        return JSONResponse({"error": reason}, status_code=403)
