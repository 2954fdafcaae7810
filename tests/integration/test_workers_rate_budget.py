"""Four workers on one store of the `standard` plan (150 requests per 30 s window) share its
budget: a store's API calls only happen in the job holding its lock, and each job's governor
starts from the window the previous job saw. Over more than a window of polling every second,
the sandbox answers no 429 while the quota is the binding limit."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from b2bsync.sandbox.config import Plan
from tests.conftest import quiet_config
from tests.integration.webhook_support import wait_for
from tests.integration.worker_support import (
    assert_delivered_exactly_once,
    processes,
    simulate_all,
    simulations_done,
    throttled,
    upgrade,
    wait_until_delivered,
    write_config,
)
from tests.sandbox_server import run_sandbox

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


async def _requests(base_url: str, headers: dict[str, str]) -> int:
    async with httpx2.AsyncClient() as http:
        response = await http.get(f"{base_url}/__sandbox/stats", headers=headers)
    return int(response.json()["requests_total"])


async def test_four_workers_on_one_standard_store_get_no_429(
    empty_postgres_url: str,
    tmp_path: Path,
) -> None:
    config = quiet_config(orders=40, plan=Plan.STANDARD)
    with run_sandbox(config) as sandbox:
        stores = config.store_hashes
        await upgrade(empty_postgres_url)
        # Small pages: every round re-reads its overlap in many requests, so four workers
        # polling every second ask for several times the window's quota.
        path = write_config(tmp_path / "b2bsync.toml", sandbox, empty_postgres_url, page_size=5)
        with processes(path, sandbox) as running:
            workers = [running.start("worker", "--concurrency", "1") for _ in range(4)]
            await simulate_all(sandbox, stores, rate=2, duration=32)
            await wait_for(lambda: simulations_done(sandbox, stores), limit_s=45, interval=0.5)
            expected = await wait_until_delivered(sandbox, stores, empty_postgres_url, 40, workers)
        await assert_delivered_exactly_once(expected, empty_postgres_url)
        # More than a window's quota was spent over the run (the governors paced it)...
        assert await _requests(sandbox.base_url, sandbox.headers()) > 150
        # ...and it held across the four processes.
        assert await throttled(sandbox) == 0
