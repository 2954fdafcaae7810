"""Paging at scale and under faults: eight coroutines page 20,000 orders on the `standard` plan
(150 requests per 30 s) sharing one governor with no 429 at all and no request beyond the
minimum; and paging completes correctly through a storm of injected faults."""

from __future__ import annotations

import asyncio
import math

import httpx2
import pytest

from b2bsync.bigcommerce import BigCommerceClient, GovernorRegistry, RetryPolicy
from b2bsync.sandbox.config import FaultProfile, Plan
from tests.conftest import quiet_config
from tests.sandbox_server import run_sandbox

COROUTINES = 8
PAGE = 250


@pytest.mark.slow
async def test_eight_coroutines_page_20000_orders_without_a_429() -> None:
    with run_sandbox(quiet_config(orders=20_000, plan=Plan.STANDARD)) as sandbox:
        store = sandbox.world.store(sandbox.config.store_hash)
        ids = sorted(order.id for order in store.orders.values() if not order.is_deleted)
        assert len(ids) == 20_000
        share = math.ceil(len(ids) / COROUTINES)
        ranges = [ids[i : i + share] for i in range(0, len(ids), share)]
        sandbox.gateway.stats.reset()
        client = BigCommerceClient(
            store_hash=sandbox.config.store_hash,
            access_token=sandbox.config.token,
            api_url=sandbox.base_url,
            governors=GovernorRegistry(),
        )

        async def page_range(chunk: list[int]) -> list[int]:
            filters = {"min_id": chunk[0], "max_id": chunk[-1]}
            return [order.id async for order in client.orders.iterate(filters, page_size=PAGE)]

        async with client:
            results = await asyncio.gather(*(page_range(chunk) for chunk in ranges))
            snapshot = client.store_http.governor.snapshot()
        async with httpx2.AsyncClient() as http:
            stats = (
                await http.get(sandbox.base_url + "/__sandbox/stats", headers=sandbox.headers())
            ).json()

    assert sorted(order_id for result in results for order_id in result) == ids
    minimum = sum(math.ceil(len(chunk) / PAGE) for chunk in ranges)
    assert minimum == 80
    assert stats["by_operation"] == {"GET v2 /orders": minimum}
    assert stats["by_status"] == {"200": minimum}
    assert stats["throttled"] == 0
    assert snapshot.quota == 150
    assert snapshot.throttled == 0


async def test_paging_survives_a_fault_storm() -> None:
    """5xx, bare 429s, slow answers and connections dropped mid-body are retried away."""
    config = quiet_config(orders=600, faults=FaultProfile.STORM)
    with run_sandbox(config) as sandbox:
        store = sandbox.world.store(sandbox.config.store_hash)
        expected = sorted(order.id for order in store.orders.values() if not order.is_deleted)
        async with BigCommerceClient(
            store_hash=sandbox.config.store_hash,
            access_token=sandbox.config.token,
            api_url=sandbox.base_url,
            b2b_api_url=sandbox.base_url + "/b2b",
            governors=GovernorRegistry(),
            retry=RetryPolicy(attempts=10, timeout_s=30, wait_initial_s=0.02, wait_max_s=0.2),
        ) as client:
            ids = [order.id async for order in client.orders.iterate(page_size=50)]
            companies = [company.company_id async for company in client.b2b.companies(page_size=2)]
        faults = sandbox.gateway.faults.injected
    assert ids == expected
    assert sorted(companies) == sorted(store.companies)
    assert faults >= 3
