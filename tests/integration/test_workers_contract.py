"""One contract for both runners: the single-process runner (`b2bsync run --role all`) and the
procrastinate workers (`b2bsync worker`, two processes) sync two stores on PostgreSQL, and
every order the sandbox made reaches the `sql` destination exactly once with its type."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import quiet_config
from tests.integration.webhook_support import wait_for
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


@pytest.fixture(params=["single_process", "workers"])
def runner(request: pytest.FixtureRequest) -> list[tuple[str, ...]]:
    """The processes (as `b2bsync` arguments) of one runner."""
    if request.param == "single_process":
        return [("run", "--role", "all", "--port", str(free_port()))]
    return [("worker", "--concurrency", "2"), ("worker", "--concurrency", "2")]


async def test_every_order_of_every_store_reaches_sql_exactly_once_with_its_type(
    runner: list[tuple[str, ...]],
    empty_postgres_url: str,
    tmp_path: Path,
) -> None:
    config = quiet_config(orders=30, extra_store_hashes=("teststore1-2",))
    with run_sandbox(config) as sandbox:
        stores = config.store_hashes
        await upgrade(empty_postgres_url)
        path = write_config(tmp_path / "b2bsync.toml", sandbox, empty_postgres_url)
        with processes(path, sandbox) as running:
            started = [running.start(*args) for args in runner]
            await simulate_all(sandbox, stores, rate=10, duration=2)
            await wait_for(lambda: simulations_done(sandbox, stores), limit_s=20)
            expected = await wait_until_delivered(sandbox, stores, empty_postgres_url, 60, started)
        await assert_delivered_exactly_once(expected, empty_postgres_url)
        assert len(expected) > 60
