"""A malformed V2 order waits in quarantine while the rest of its page syncs; read clean again
it leaves quarantine and syncs like any other order."""

from __future__ import annotations

import json

import httpx2

from b2bsync.domain.rejects import RejectedStream
from b2bsync.store import Database
from b2bsync.sync import poll_store
from b2bsync.sync.poller import ORDERS_STREAM
from tests.conftest import quiet_config
from tests.integration.sync_support import any_db, ledger, put_order, sync_context, truth
from tests.sandbox_server import run_sandbox

__all__ = ["any_db"]


class Corrupting(httpx2.AsyncBaseTransport):
    """Forwards to the sandbox, writing a non-number into `total_inc_tax` of the orders in
    `broken` wherever `/v2/orders` lists them: what a store's bad data or an API bug returns."""

    def __init__(self) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self.broken: set[int] = set()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        if not request.url.path.endswith("/v2/orders") or response.status_code != 200:
            return response
        body = json.loads(await response.aread())
        for order in body:
            if order["id"] in self.broken:
                order["total_inc_tax"] = "twelve dollars"
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx2.Response(response.status_code, headers=headers, json=body)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_a_malformed_order_is_quarantined_alone_and_released_when_read_clean(
    any_db: Database,
) -> None:
    transport = Corrupting()
    with run_sandbox(quiet_config(orders=40)) as sandbox:
        expected = truth(sandbox)
        bad = sorted(expected)[len(expected) // 2]
        transport.broken.add(bad)
        async with sync_context(sandbox, any_db, transport=transport) as ctx:
            first = await poll_store(ctx, archived=False)
            entries = await ledger(any_db, ctx.store)
            live = {i for i, row in expected.items() if not row["is_deleted"]}
            assert set(entries) == live - {bad}
            assert first.processed.quarantined >= 1
            async with any_db.transaction(readonly=True) as tx:
                held = await tx.quarantine.records(ctx.store, stream=RejectedStream.V2_ORDER)
                checkpoint = await tx.checkpoints.get(ctx.store, ORDERS_STREAM)
            assert [(r.key, r.order_id) for r in held] == [(str(bad), bad)]
            assert "total_inc_tax" in held[0].path
            # The page and the scan went on: the watermark is past every order read.
            assert checkpoint is not None
            assert checkpoint.watermark is not None
            newest = max(entry.date_modified for entry in entries.values())
            assert checkpoint.watermark >= newest

            transport.broken.clear()
            await put_order(sandbox, bad, {"staff_notes": "fixed at the source"})
            second = await poll_store(ctx, archived=False)
            entries = await ledger(any_db, ctx.store)
            assert set(entries) == live
            assert entries[bad].version == 1
            assert second.processed.quarantined == 0
            async with any_db.transaction(readonly=True) as tx:
                assert await tx.quarantine.records(ctx.store, stream=RejectedStream.V2_ORDER) == []
