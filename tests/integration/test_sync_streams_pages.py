"""The newest-first signal streams (invoices, payments, companies) cache a page per transaction:
a scan cut short keeps the pages it committed and its old checkpoint, so the next scan reads
from the same bound and ends with every record cached once."""

from __future__ import annotations

import httpx2
import pytest
from sqlalchemy import func, select

from b2bsync.bigcommerce import BigCommerceError
from b2bsync.store import Database
from b2bsync.store.schema import invoices
from b2bsync.sync import SyncSettings
from b2bsync.sync.streams import scan_invoices
from tests.conftest import quiet_config
from tests.integration.sync_support import any_db, sync_context
from tests.sandbox_server import run_sandbox

__all__ = ["any_db"]

PAGE = 10


class CutAfter(httpx2.AsyncBaseTransport):
    """Forwards to the sandbox, but answers 503 to the invoice listing from `offset` on (until
    `cut` is None): an outage in the middle of a long first scan."""

    def __init__(self, offset: int) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self.cut: int | None = offset

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        offset = int(request.url.params.get("offset", "0"))
        if (
            self.cut is not None
            and request.url.path.endswith("/ip/invoices")
            and offset >= self.cut
        ):
            return httpx2.Response(503, json={"code": 503, "message": "unavailable"})
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _cached(db: Database, store: str) -> int:
    async with db.transaction(readonly=True) as tx:
        count = await tx.connection.scalar(
            select(func.count()).select_from(invoices).where(invoices.c.store == store)
        )
    return int(count or 0)


async def test_a_scan_cut_short_keeps_its_pages_and_the_next_one_finishes(
    any_db: Database,
) -> None:
    transport = CutAfter(offset=2 * PAGE)
    settings = SyncSettings(b2b_page_size=PAGE)
    with run_sandbox(quiet_config(orders=200)) as sandbox:
        async with sync_context(sandbox, any_db, settings=settings, transport=transport) as ctx:
            with pytest.raises(BigCommerceError):
                await scan_invoices(ctx, ctx.clock())
            assert await _cached(any_db, ctx.store) == 2 * PAGE
            async with any_db.transaction(readonly=True) as tx:
                assert await tx.checkpoints.get(ctx.store, "invoices") is None
            transport.cut = None
            finished = await scan_invoices(ctx, ctx.clock())
            total = await _cached(any_db, ctx.store)
            async with any_db.transaction(readonly=True) as tx:
                checkpoint = await tx.checkpoints.get(ctx.store, "invoices")
    assert total > 3 * PAGE
    assert finished.read == total
    assert checkpoint is not None
    assert checkpoint.watermark is not None
