"""The ASGI app (`create_app`): `/healthz`, the webhook intake, and the background services that
belong to the serving process (micro-batcher, watchdog), started and stopped with it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

import structlog
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from b2bsync.sync.intake import WebhookIntake, intake_router

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
    intake: WebhookIntake | None = None,
    services: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
) -> FastAPI:
    """The app; `services` are long-running coroutines started with the app and cancelled when
    it stops (e.g. `MicroBatcher.run`, `Watchdog.run`)."""

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

    app = FastAPI(title="b2bsync", version="0.1.0", lifespan=lifespan)

    @app.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    if intake is not None:
        app.include_router(intake_router(intake))
    app.add_middleware(BodySizeLimit, limit=max_request_bytes)
    return app
