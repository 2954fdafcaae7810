"""API-call budget: a cold run over ~2,000 orders composes every page from the V2 page plus the
signal caches, so it costs a constant number of calls per page, never one per order."""

from __future__ import annotations

from b2bsync.sandbox.config import FaultProfile
from b2bsync.store import Database
from b2bsync.sync import run_once
from tests.conftest import quiet_config
from tests.integration.sync_support import expected_type, ledger, sqlite_db, sync_context, truth
from tests.sandbox_server import run_sandbox

__all__ = ["sqlite_db"]


async def test_a_cold_run_over_2000_orders_costs_at_most_003_calls_per_order(
    sqlite_db: Database,
) -> None:
    with run_sandbox(quiet_config(orders=2000, companies=20, faults=FaultProfile.FLAKY)) as sandbox:
        async with sync_context(sandbox, sqlite_db) as ctx:
            summary = await run_once(ctx)
            expected = truth(sandbox)
    print(
        f"cold run: {summary.calls} API calls for {summary.poll.orders_read} orders "
        f"= {summary.calls_per_order:.4f} calls per order"
    )
    assert summary.poll.orders_read == len(expected) == 2000
    assert summary.calls_per_order <= 0.03
    entries = await ledger(sqlite_db, ctx.store)
    assert len(entries) == 2000
    assert all(
        entry.order_type is expected_type(expected[i]["kind"]) for i, entry in entries.items()
    )
