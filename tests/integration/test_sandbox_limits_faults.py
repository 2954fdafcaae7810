"""Rate limits, injected faults and latency of the sandbox, measured over loopback."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import httpx2
import pytest

from b2bsync.sandbox.config import FaultProfile, Plan
from tests.conftest import quiet_config
from tests.sandbox_server import RunningSandbox, run_sandbox

RATE_HEADERS = (
    "x-rate-limit-time-window-ms",
    "x-rate-limit-time-reset-ms",
    "x-rate-limit-requests-quota",
    "x-rate-limit-requests-left",
)
B2B_HEADERS = (
    "x-requests-allocated",
    "x-requests-remaining",
    "x-requests-window-length",
    "x-request-window-resets-after",
)


@pytest.fixture
def standard() -> Iterator[RunningSandbox]:
    with run_sandbox(quiet_config(plan=Plan.STANDARD, orders=10, companies=2)) as sandbox:
        yield sandbox


def test_store_api_quota_is_shared_by_v2_and_v3(standard: RunningSandbox) -> None:
    with httpx2.Client(base_url=standard.store_url, headers=standard.headers()) as client:
        lefts = []
        for number in range(150):
            path = "/v2/orders/count" if number % 3 == 0 else "/v3/hooks"
            response = client.get(path)
            assert response.status_code in (200, 204), (number, response.status_code)
            for header in RATE_HEADERS:
                assert header in response.headers, (path, header)
            assert response.headers["x-rate-limit-requests-quota"] == "150"
            assert response.headers["x-rate-limit-time-window-ms"] == "30000"
            lefts.append(int(response.headers["x-rate-limit-requests-left"]))
        assert lefts == list(range(149, -1, -1))

        throttled = client.get("/v2/orders")
        assert throttled.status_code == 429
        assert throttled.json()[0]["status"] == 429
        assert throttled.headers["x-rate-limit-requests-left"] == "0"
        reset_ms = int(throttled.headers["x-rate-limit-time-reset-ms"])
        assert 0 < reset_ms <= 30_000
        assert int(throttled.headers["x-retry-after"]) == -(-reset_ms // 1000)
        v3 = client.get("/v3/hooks")
        assert v3.status_code == 429
        assert v3.json()["status"] == 429
        assert "x-retry-after" in v3.headers

    stats = httpx2.get(f"{standard.base_url}/__sandbox/stats", headers=standard.headers()).json()
    assert stats["throttled"] == 2


def test_error_answers_carry_rate_headers_too(standard: RunningSandbox) -> None:
    with httpx2.Client(base_url=standard.store_url, headers=standard.headers()) as client:
        for path in ("/v3/orders/999999/metafields", "/v3/hooks/999999", "/v2/orders/999999"):
            response = client.get(path)
            assert response.status_code == 404
            assert all(header in response.headers for header in RATE_HEADERS)
        invalid = client.post("/v3/hooks", json={"scope": "nope"})
        assert invalid.status_code == 422
        assert all(header in invalid.headers for header in RATE_HEADERS)


def test_b2b_edition_allows_150_per_minute(standard: RunningSandbox) -> None:
    with httpx2.Client(base_url=standard.b2b_url, headers=standard.headers(b2b=True)) as client:
        for number in range(150):
            response = client.get("/orders", params={"limit": 1})
            assert response.status_code == 200, response.text
            assert response.headers["x-requests-allocated"] == "150 times/60 s"
            assert response.headers["x-requests-remaining"] == f"{149 - number} times"
            assert response.headers["x-requests-window-length"] == "60 s"
        throttled = client.get("/orders")
        assert throttled.status_code == 429
        assert throttled.json()["code"] == 429
        resets_after = throttled.headers["x-request-window-resets-after"]
        assert resets_after.endswith(" s")
        assert 0 < float(resets_after.removesuffix(" s")) <= 60
    # The store API quota is separate from B2B Edition's.
    store = httpx2.get(f"{standard.store_url}/v3/hooks", headers=standard.headers())
    assert store.status_code == 200


async def _outcomes(sandbox: RunningSandbox, requests: int) -> Counter[str]:
    """Fire `requests` GETs (50 at a time) and classify what came back."""
    outcomes: Counter[str] = Counter()
    gate = asyncio.Semaphore(50)
    limits = httpx2.Limits(max_connections=50)
    async with httpx2.AsyncClient(
        base_url=sandbox.store_url, headers=sandbox.headers(), timeout=10, limits=limits
    ) as client:

        async def one() -> None:
            async with gate:
                try:
                    response = await client.get("/v3/hooks")
                except httpx2.TransportError:
                    outcomes["dropped"] += 1
                    return
            if response.status_code >= 500:
                outcomes["5xx"] += 1
            elif response.status_code == 429:
                assert "x-rate-limit-requests-left" not in response.headers
                assert "x-retry-after" not in response.headers
                outcomes["bare 429"] += 1
            else:
                assert response.status_code == 200
                outcomes["ok"] += 1

        await asyncio.gather(*(one() for _ in range(requests)))
    return outcomes


@pytest.mark.parametrize(
    ("profile", "server_error", "drop", "bare_429"),
    [(FaultProfile.STORM, 0.15, 0.05, 0.08), (FaultProfile.FLAKY, 0.03, 0.01, 0.01)],
)
async def test_fault_profiles_misbehave_at_their_rates(
    profile: FaultProfile, server_error: float, drop: float, bare_429: float
) -> None:
    requests = 400
    with run_sandbox(quiet_config(faults=profile, orders=5, companies=1)) as sandbox:
        outcomes = await _outcomes(sandbox, requests)
        stats = httpx2.get(f"{sandbox.base_url}/__sandbox/stats", headers=sandbox.headers())
    assert sum(outcomes.values()) == requests
    for kind, rate in (("5xx", server_error), ("dropped", drop), ("bare 429", bare_429)):
        expected = rate * requests
        # Within ~3 standard deviations of the binomial count, and never zero.
        spread = 3 * (expected * (1 - rate)) ** 0.5
        assert max(1, expected - spread) <= outcomes[kind] <= expected + spread, (kind, outcomes)
    assert stats.json()["faults"] >= outcomes["5xx"] + outcomes["dropped"] + outcomes["bare 429"]


def test_latency_is_added_to_api_calls_only() -> None:
    config = quiet_config(latency_ms=150, orders=5, companies=1)
    with run_sandbox(config) as sandbox, httpx2.Client(headers=sandbox.headers()) as client:
        client.get(f"{sandbox.store_url}/v3/hooks")
        started = time.perf_counter()
        for _ in range(3):
            assert client.get(f"{sandbox.store_url}/v3/hooks").status_code == 200
        api_seconds = (time.perf_counter() - started) / 3
        started = time.perf_counter()
        assert client.get(f"{sandbox.base_url}/__sandbox/stats").status_code == 200
        admin_seconds = time.perf_counter() - started
    assert api_seconds >= 0.15
    assert admin_seconds + 0.1 < api_seconds
