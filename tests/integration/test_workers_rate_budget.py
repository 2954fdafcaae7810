"""Four workers on one store of the `standard` plan (150 requests per 30 s window) share its
budget: a store's API calls only happen in the job holding its lock, and each job's governor
starts from the windows the previous job saw. Rounds every second ask for more than the quota
(each re-reads its overlap in pages of 5), so the quota is the binding limit; the test runs
until more than a window's quota was spent (just over one window), and the sandbox answers no
429.

"""

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


async def _more_than_a_window(base_url: str, headers: dict[str, str]) -> bool:
    return await _requests(base_url, headers) > 150


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
            await simulate_all(sandbox, stores, rate=2, duration=5)
            await wait_for(lambda: simulations_done(sandbox, stores), limit_s=20, interval=0.5)
            # More than a window's quota is spent (the governors pace it over the window)...
            await wait_for(
                lambda: _more_than_a_window(sandbox.base_url, sandbox.headers()),
                limit_s=45,
                interval=0.5,
            )
            expected = await wait_until_delivered(sandbox, stores, empty_postgres_url, 30, workers)
        await assert_delivered_exactly_once(expected, empty_postgres_url)
        # ...and it held across the four processes.
        assert await throttled(sandbox) == 0
