"""The metafield stream runs beside the B2B Edition streams (each API has its own quota): it is
read while they are, a failure of either side is the round's error as raised, and the other
side's work is kept or stopped cleanly."""

from __future__ import annotations

import asyncio
import time

import httpx2
import pytest

from b2bsync.bigcommerce import BigCommerceError
from b2bsync.store import Database
from b2bsync.sync.streams import run_streams
from tests.conftest import quiet_config
from tests.integration.sync_support import any_db, sync_context
from tests.sandbox_server import run_sandbox

__all__ = ["any_db"]

METAFIELDS = "/v3/orders/metafields"
B2B_PATHS = ("/companies", "/ip/invoices", "/ip/payments", "/orders")


class Recording(httpx2.AsyncBaseTransport):
    """Forwards to the sandbox, noting when each listing was asked for; answers 503 to paths
    ending with `failing`."""

    def __init__(self, failing: str | None = None) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self.failing = failing
        self.sent: list[tuple[float, str]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        self.sent.append((time.monotonic(), path))
        if self.failing is not None and path.endswith(self.failing):
            return httpx2.Response(503, json={"code": 503, "message": "unavailable"})
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()

    def times(self, *suffixes: str) -> list[float]:
        return [at for at, path in self.sent if path.endswith(suffixes)]


async def _checkpoints(db: Database, store: str) -> set[str]:
    names = ("companies", "invoices", "payments", "b2b_orders", "metafields")
    async with db.transaction(readonly=True) as tx:
        return {name for name in names if await tx.checkpoints.get(store, name) is not None}


async def test_metafields_are_read_while_the_b2b_streams_are(any_db: Database) -> None:
    transport = Recording()
    with run_sandbox(quiet_config(orders=600)) as sandbox:
        async with sync_context(sandbox, any_db, transport=transport) as ctx:
            results = await run_streams(ctx, ctx.clock())
            saved = await _checkpoints(any_db, ctx.store)
    assert [result.stream for result in results][-1] == "metafields"
    assert saved == {"companies", "invoices", "payments", "b2b_orders", "metafields"}
    metafields, b2b = transport.times(METAFIELDS), transport.times(*B2B_PATHS)
    assert metafields
    assert b2b
    assert min(metafields) < max(b2b)


async def test_a_failing_b2b_stream_is_the_error_and_stops_the_metafields(
    any_db: Database,
) -> None:
    transport = Recording(failing="/ip/invoices")
    with run_sandbox(quiet_config(orders=200)) as sandbox:
        async with sync_context(sandbox, any_db, transport=transport) as ctx:
            with pytest.raises(BigCommerceError):
                await run_streams(ctx, ctx.clock())
            left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            saved = await _checkpoints(any_db, ctx.store)
    assert not [task for task in left if "scan_metafields" in repr(task.get_coro())]
    assert "invoices" not in saved
    assert "b2b_orders" not in saved


async def test_a_failing_metafield_stream_is_the_error_after_the_b2b_streams_are_saved(
    any_db: Database,
) -> None:
    transport = Recording(failing=METAFIELDS)
    with run_sandbox(quiet_config(orders=200)) as sandbox:
        async with sync_context(sandbox, any_db, transport=transport) as ctx:
            with pytest.raises(BigCommerceError):
                await run_streams(ctx, ctx.clock())
            saved = await _checkpoints(any_db, ctx.store)
    assert saved == {"companies", "invoices", "payments", "b2b_orders"}
