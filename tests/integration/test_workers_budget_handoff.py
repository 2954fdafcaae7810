"""The rate-budget hand-off between consecutive jobs of one store. Each worker job builds its
governors afresh (as a job in another process does); only the checkpoint written by
`handed_over` links them. With a `rate_budget` of 3 requests per 3 s, a job that spent the
budget leaves the next job waiting for the window to close: together they stay within the cap,
instead of the next job starting a full budget of its own."""

from __future__ import annotations

import time

from b2bsync.bigcommerce import GovernorRegistry
from b2bsync.bigcommerce._rate_budget import RateBudget
from b2bsync.config import StoreEntry, StoreSettings
from b2bsync.store import Database
from b2bsync.sync.fleet import Fleet
from b2bsync.workers.budget import handed_over
from tests.conftest import quiet_config
from tests.integration.sync_support import sqlite_db
from tests.sandbox_server import run_sandbox

__all__ = ["sqlite_db"]

BUDGET = RateBudget(3, 3.0)


async def _job(fleet: Fleet, store: str) -> list[float]:
    """What `sync_store` does around its round, with a round of exactly one budget's calls;
    when each call was answered."""
    registry = GovernorRegistry()
    answered: list[float] = []
    async with fleet.context(store, governors=registry) as ctx, handed_over(ctx, registry):
        for _ in range(BUDGET.requests):
            await ctx.client.orders.status(11)
            answered.append(time.monotonic())
    return answered


async def test_consecutive_jobs_share_one_budget_window(sqlite_db: Database) -> None:
    with run_sandbox(quiet_config(orders=1)) as sandbox:
        connection = StoreSettings(
            BIGCOMMERCE_STORE_HASH=sandbox.config.store_hash,
            BIGCOMMERCE_ACCESS_TOKEN=sandbox.config.token,
            BIGCOMMERCE_API_URL=sandbox.base_url,
            B2B_API_URL=f"{sandbox.base_url}/b2b",
        )
        entry = StoreEntry(connection, rate_budget=BUDGET)
        fleet = Fleet(db=sqlite_db, destinations=(), stores={entry.store_hash: entry})
        started = time.monotonic()
        answered = [await _job(fleet, entry.store_hash) for _ in range(2)]

    assert [len(times) for times in answered] == [BUDGET.requests, BUDGET.requests]
    # The first job's window opened at its first request, after `started`; the second job's
    # first request waits for that window to close. Without the hand-off it would follow the
    # first job's last request at once (about 2 s in: requests are paced 1 s apart).
    assert answered[1][0] - started >= BUDGET.window_s
