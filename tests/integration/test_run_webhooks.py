"""`run --role all` with webhooks: every store with a webhook secret gets its intake (at
`/webhooks/bigcommerce/{store_hash}` when there are several, the bare path for a single store),
its micro-batcher and its watchdog; a store without a secret is polled. The sandbox calls back
over real HTTP; `/metrics` afterwards has the series of every store."""

from __future__ import annotations

from pathlib import Path

import httpx2
import psycopg
import pytest

from b2bsync.domain.order_type import OrderType
from tests.conftest import quiet_config
from tests.integration.webhook_support import healthy, wait_for
from tests.integration.worker_support import (
    Processes,
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


async def _webhook_rows(database_url: str) -> dict[str, int]:
    """Change-feed rows written by the intake, per store."""
    query = "SELECT store, count(*) FROM change_feed WHERE source = 'webhook' GROUP BY store"
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        rows = await (await conn.execute(query)).fetchall()
    return {str(store): int(count) for store, count in rows}


async def _installed_destinations(database_url: str) -> dict[str, str]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        rows = await (
            await conn.execute("SELECT store, destination FROM webhook_health")
        ).fetchall()
    return {str(store): str(destination) for store, destination in rows}


async def _run_all_through_orders(
    running: Processes, port: int, database_url: str
) -> dict[tuple[str, int], OrderType]:
    """Start `run --role all` on `port`, place orders on every sandbox store, and wait until
    every one reached the destination; returns what was expected."""
    sandbox, stores = running.sandbox, running.sandbox.config.store_hashes
    web = running.start("run", "--role", "all", "--port", str(port))
    await wait_for(lambda: healthy(f"http://127.0.0.1:{port}"), limit_s=20)
    await simulate_all(sandbox, stores, rate=5, duration=2)
    await wait_for(lambda: simulations_done(sandbox, stores), limit_s=20)
    return await wait_until_delivered(sandbox, stores, database_url, 30, [web])


async def test_every_store_with_a_secret_gets_its_intake_and_the_others_are_polled(
    empty_postgres_url: str, tmp_path: Path
) -> None:
    config = quiet_config(orders=6, companies=3, extra_store_hashes=("hooked2", "polled3"))
    with run_sandbox(config) as sandbox:
        stores = config.store_hashes
        hooked, polled = stores[:2], stores[2]
        await upgrade(empty_postgres_url)
        # Polled stores look every second; hooked ones wait for callbacks (their safety-net
        # poll is the watchdog's, minutes away).
        path = write_config(tmp_path / "b2bsync.toml", sandbox, empty_postgres_url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with processes(path, sandbox) as running:
            for store in hooked:
                install = running.start("webhooks", "install", "--url", base, "--store", store)
                assert install.wait(timeout=30) == 0
            assert await _installed_destinations(empty_postgres_url) == {
                store: f"{base}/webhooks/bigcommerce/{store}" for store in hooked
            }
            expected = await _run_all_through_orders(running, port, empty_postgres_url)
            async with httpx2.AsyncClient(base_url=base) as http:
                metrics = (await http.get("/metrics")).text
                # With several stores the bare intake path is not served: it would not know
                # whose callback it is.
                assert (await http.post("/webhooks/bigcommerce", json={})).status_code == 404
        await assert_delivered_exactly_once(expected, empty_postgres_url)
        callbacks = await _webhook_rows(empty_postgres_url)
        assert set(callbacks) == set(hooked)
        assert all(count > 0 for count in callbacks.values())
        assert polled not in callbacks
        # Every store has its own series of API requests and deliveries.
        for metric in ("b2bsync_api_requests_total", "b2bsync_destination_deliveries_total"):
            labelled = [line for line in metrics.splitlines() if line.startswith(metric + "{")]
            for store in stores:
                assert any(f'store="{store}"' in line for line in labelled), (metric, store)


async def test_a_single_store_with_a_secret_is_driven_by_callbacks_under_run_all(
    empty_postgres_url: str, tmp_path: Path
) -> None:
    config = quiet_config(orders=6, companies=3)
    with run_sandbox(config) as sandbox:
        stores = config.store_hashes
        await upgrade(empty_postgres_url)
        # An hourly poll interval: only the first round and callbacks can bring orders in.
        path = write_config(
            tmp_path / "b2bsync.toml",
            sandbox,
            empty_postgres_url,
            poll_interval_s=3600,
            store_lines=('plan = "standard"', 'rate_budget = "120/30s"'),
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with processes(path, sandbox) as running:
            install = running.start("webhooks", "install", "--url", base)
            assert install.wait(timeout=30) == 0
            # A single store keeps the bare intake path.
            assert await _installed_destinations(empty_postgres_url) == {
                stores[0]: f"{base}/webhooks/bigcommerce"
            }
            expected = await _run_all_through_orders(running, port, empty_postgres_url)
            async with httpx2.AsyncClient(base_url=base) as http:
                overview = (await http.get("/api/overview")).json()
        await assert_delivered_exactly_once(expected, empty_postgres_url)
        assert (await _webhook_rows(empty_postgres_url)).get(stores[0], 0) > 0
        assert overview["orders"] >= len(expected)
        assert [hook["store"] for hook in overview["webhooks"]] == [stores[0]]
        assert overview["webhooks"][0]["installed"] is True
        # The store's budget reached the process's governor, and the dashboard shows it.
        caps = {(row["store"], row["api"]): row["cap"] for row in overview["rate_budget"]}
        assert caps[(stores[0], "store API")] == "120/30s"
        assert caps[(stores[0], "B2B Edition API")] is None
