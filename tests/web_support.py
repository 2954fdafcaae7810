"""What the dashboard tests share: a ledger filled by a real sandbox sync (with dead letters),
and the dashboard app over it with a destination that accepts everything again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from b2bsync.config import Settings
from b2bsync.domain.order_type import OrderType
from b2bsync.store import Database, LedgerQuery
from b2bsync.sync import run_once
from b2bsync.web.access import Access
from b2bsync.web.dashboard import Dashboard, single_store
from tests.integration.sync_support import Recorder, migrated, sync_context, truth
from tests.sandbox_server import RunningSandbox

REFUSED = 3
"""Orders the ERP refuses during the sync: they become dead letters."""


@dataclass(frozen=True, slots=True)
class SyncedLedger:
    """A ledger database after one sync of the sandbox, and what the tests look for in it."""

    url: str
    store: str
    dead_orders: tuple[int, ...]
    invoice_payments: tuple[int, ...]
    online_orders: tuple[int, ...]


async def sync_ledger(sandbox: RunningSandbox, url: str) -> SyncedLedger:
    """Sync the sandbox into `url` once; the first `REFUSED` deliverable orders are refused
    by the destination, so they end as dead letters."""
    db = await migrated(url)
    try:
        recorder = Recorder()
        async with sync_context(sandbox, db, destinations=(recorder.configured(),)) as ctx:
            orders = sorted(truth(sandbox))
            recorder.refuse = set(orders[:REFUSED])
            await run_once(ctx)
        async with db.transaction(readonly=True) as tx:
            page = await tx.ledger.list_orders(LedgerQuery(), page_size=100_000)
            dead = await tx.outbox.dead_letters(limit=1000)
    finally:
        await db.close()

    def of(kind: OrderType) -> tuple[int, ...]:
        return tuple(item.order_id for item in page.items if item.order_type is kind)

    return SyncedLedger(
        url=url,
        store=sandbox.config.store_hash,
        dead_orders=tuple(sorted({row.order_id for row in dead})),
        invoice_payments=of(OrderType.INVOICE_PAYMENT),
        online_orders=of(OrderType.ONLINE_ORDER),
    )


@asynccontextmanager
async def dashboard_over(
    sandbox: RunningSandbox,
    url: str,
    access: Access | None = None,
    settings: Settings | None = None,
) -> AsyncIterator[tuple[Dashboard, Recorder]]:
    """The dashboard over the ledger at `url`, acting through a sync context whose destination
    (the returned `Recorder`) now accepts every delivery."""
    db = Database(url)
    recorder = Recorder()
    try:
        async with sync_context(sandbox, db, destinations=(recorder.configured(),)) as ctx:
            yield (
                Dashboard(
                    db=db,
                    access=access or Access(),
                    contexts=single_store(ctx),
                    store=ctx.store,
                    settings=settings,
                ),
                recorder,
            )
    finally:
        await db.close()
