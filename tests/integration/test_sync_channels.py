"""A store's `channels`: orders of the other storefront channels are read by the scan and kept
in the ledger as `skipped` (so no order is missed, and a later callback for one finds its draft),
never delivered; the store's rate budget reaches its governor."""

from __future__ import annotations

from b2bsync.bigcommerce import GovernorRegistry
from b2bsync.bigcommerce._governor import Family
from b2bsync.bigcommerce._rate_budget import RateBudget
from b2bsync.config import StoreEntry, StoreSettings
from b2bsync.domain.sync_state import SyncState
from b2bsync.store import Database
from b2bsync.sync.fleet import Fleet
from b2bsync.sync.runner import run_once
from tests.conftest import quiet_config
from tests.integration.sync_support import Recorder, ledger, put_order, sqlite_db, truth
from tests.sandbox_server import run_sandbox

__all__ = ["sqlite_db"]

INCOMPLETE = 0


async def test_orders_of_other_channels_are_skipped_not_delivered(sqlite_db: Database) -> None:
    recorder = Recorder()
    with run_sandbox(quiet_config(orders=30)) as sandbox:
        expected = truth(sandbox)
        deliverable = sorted(i for i, row in expected.items() if row["status_id"] != INCOMPLETE)
        # Every third order was placed on storefront channel 2, one on channel 3.
        other = {order_id: 2 for order_id in deliverable[::3]} | {deliverable[1]: 3}
        for order_id, channel in other.items():
            await put_order(sandbox, order_id, {"channel_id": channel})
        connection = StoreSettings(
            BIGCOMMERCE_STORE_HASH=sandbox.config.store_hash,
            BIGCOMMERCE_ACCESS_TOKEN=sandbox.config.token,
            BIGCOMMERCE_API_URL=sandbox.base_url,
            B2B_API_URL=f"{sandbox.base_url}/b2b",
        )
        entry = StoreEntry(
            connection, channels=frozenset({1, 2}), rate_budget=RateBudget(100, 30.0)
        )
        fleet = Fleet(
            db=sqlite_db,
            destinations=(recorder.configured(),),
            stores={entry.store_hash: entry},
        )
        registry = GovernorRegistry()
        async with fleet.context(entry.store_hash, governors=registry) as ctx:
            summary = await run_once(ctx)
            (governor,) = [g for g in registry.governors() if g.family is Family.STORE]
            assert governor.budget == RateBudget(100, 30.0)
        entries = await ledger(sqlite_db, entry.store_hash)

    assert set(entries) == set(expected)
    excluded = {order_id for order_id, channel in other.items() if channel == 3}
    assert summary.poll.processed.other_channel == len(excluded)
    assert {d.order_id for d in recorder.received} == set(deliverable) - excluded
    for order_id in excluded:
        assert entries[order_id].sync_state is SyncState.SKIPPED
        assert entries[order_id].record is not None
        assert entries[order_id].record.channel_id == 3
