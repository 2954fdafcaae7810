"""`run --role web` with workers: a webhook callback queues a round for its store at once, so
orders arrive without waiting for the (here hourly) periodic tick."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import quiet_config
from tests.integration.webhook_support import healthy, wait_for
from tests.integration.worker_support import (
    assert_delivered_exactly_once,
    processes,
    simulate_all,
    simulations_done,
    upgrade,
    wait_until_delivered,
    write_config,
)
from tests.sandbox_server import free_port, run_sandbox

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


async def test_a_callback_to_the_web_role_queues_a_round_for_the_workers(
    empty_postgres_url: str, tmp_path: Path
) -> None:
    config = quiet_config(orders=10)
    with run_sandbox(config) as sandbox:
        stores = config.store_hashes
        await upgrade(empty_postgres_url)
        # An hourly tick: within this test only callbacks can start a round.
        path = write_config(
            tmp_path / "b2bsync.toml", sandbox, empty_postgres_url, poll_interval_s=3600
        )
        port = free_port()
        with processes(path, sandbox) as running:
            install = running.start("webhooks", "install", "--url", f"http://127.0.0.1:{port}")
            assert install.wait(timeout=30) == 0
            web = running.start("run", "--role", "web", "--port", str(port))
            worker = running.start("worker", "--concurrency", "1")
            await wait_for(lambda: healthy(f"http://127.0.0.1:{port}"), limit_s=20)
            await simulate_all(sandbox, stores, rate=5, duration=2)
            await wait_for(lambda: simulations_done(sandbox, stores), limit_s=20)
            expected = await wait_until_delivered(
                sandbox, stores, empty_postgres_url, 30, [web, worker]
            )
        await assert_delivered_exactly_once(expected, empty_postgres_url)
