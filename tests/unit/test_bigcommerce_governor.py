"""The governor's arithmetic on a fake clock, header parsing, and its asyncio behaviour."""

from __future__ import annotations

import asyncio

import pytest

from b2bsync.bigcommerce._governor import (
    Family,
    Governor,
    GovernorRegistry,
    WindowReading,
    read_b2b_headers,
    read_store_headers,
)
from b2bsync.bigcommerce._rate_budget import RateBudget


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def governor(clock: FakeClock) -> Governor:
    return Governor("store", Family.STORE, clock=clock, sleep=clock.sleep)


def test_store_headers_are_read() -> None:
    reading = read_store_headers(
        {
            "X-Rate-Limit-Requests-Quota": "150",
            "X-Rate-Limit-Requests-Left": "35",
            "X-Rate-Limit-Time-Reset-Ms": "15000",
            "X-Rate-Limit-Time-Window-Ms": "30000",
        }
    )
    assert reading == WindowReading(quota=150, left=35, reset_s=15.0, window_s=30.0)
    assert read_store_headers({"X-Rate-Limit-Requests-Quota": "150"}) is None


def test_b2b_headers_with_units_are_read() -> None:
    reading = read_b2b_headers(
        {
            "X-Requests-Allocated": "150 times/60 s",
            "X-Requests-Remaining": "149 times",
            "X-Request-Window-Resets-After": "0.397 s",
        }
    )
    assert reading == WindowReading(quota=150, left=149, reset_s=0.397, window_s=60.0)
    assert read_b2b_headers({"X-Requests-Remaining": "3 times"}) is None


def test_unknown_limits_do_not_pace() -> None:
    clock = FakeClock()
    gov = governor(clock)
    assert gov.delay(clock.now) == 0
    gov.on_send(clock.now)
    gov.observe(None, clock.now)
    assert gov.delay(clock.now) == 0


class FakeServer:
    """A fixed-window meter like BigCommerce's: the window opens with the first request."""

    def __init__(self, quota: int, window_s: float) -> None:
        self.quota, self.window_s = quota, window_s
        self.start = -1e9
        self.used = 0
        self.rejected = 0

    def take(self, now: float) -> WindowReading:
        if now - self.start >= self.window_s:
            self.start, self.used = now, 0
        reset = self.window_s - (now - self.start)
        if self.used >= self.quota:
            self.rejected += 1
            return WindowReading(self.quota, 0, reset, self.window_s)
        self.used += 1
        return WindowReading(self.quota, self.quota - self.used, reset, self.window_s)


@pytest.mark.parametrize("quota", [150, 450, 3])
def test_a_steady_workload_never_hits_429_and_spends_each_window(quota: int) -> None:
    clock = FakeClock()
    gov = governor(clock)
    server = FakeServer(quota, 30.0)
    sent_at: list[float] = []
    while clock.now < 1000.0 + 95.0:
        clock.now += gov.delay(clock.now)
        gov.on_send(clock.now)
        sent_at.append(clock.now)
        clock.now += 0.01  # round trip
        gov.observe(server.take(clock.now - 0.005), clock.now)
    assert server.rejected == 0
    in_first_window = [t for t in sent_at if t < 1000.0 + 30.0]
    assert len(in_first_window) >= quota - 1
    # A quarter of the quota goes at once; after it, the n-th request waits for n/quota of
    # the window, so the budget is not spent ahead of time.
    burst = max(1, quota // 4)
    assert in_first_window[burst - 1] - 1000.0 < 0.02 * burst
    for n, sent in enumerate(in_first_window[burst:], start=1):
        assert sent - 1000.0 >= 30.0 * n / quota - 1e-6
    # Over three windows the throughput is the quota, not less.
    assert len(sent_at) >= 3 * quota


def test_exhausted_window_waits_for_the_reset_then_starts_fresh() -> None:
    clock = FakeClock()
    gov = governor(clock)
    gov.on_send(clock.now)
    gov.observe(WindowReading(150, 0, 12.5, 30.0), clock.now)
    assert gov.delay(clock.now) == pytest.approx(12.5)
    clock.now += 12.5
    assert gov.delay(clock.now) == 0
    assert gov.left == 150
    assert gov.reset_at == pytest.approx(clock.now + 30.0)


def test_in_flight_requests_are_reserved_from_the_budget() -> None:
    clock = FakeClock()
    gov = governor(clock)
    gov.on_send(clock.now)
    gov.observe(WindowReading(10, 9, 30.0, 30.0), clock.now)
    for _ in range(4):
        gov.on_send(clock.now)
    # The server answered one of them and says 8 are left; 3 are still in flight.
    gov.observe(WindowReading(10, 8, 29.0, 30.0), clock.now + 1)
    assert gov.left == 5


def test_stale_answer_from_a_closed_window_is_ignored() -> None:
    clock = FakeClock()
    gov = governor(clock)
    gov.on_send(clock.now)
    gov.observe(WindowReading(150, 100, 30.0, 30.0), clock.now)
    gov.on_send(clock.now)
    gov.observe(WindowReading(150, 149, 0.2, 30.0), clock.now)
    assert gov.left == 99
    assert gov.reset_at == pytest.approx(1030.0)


def test_429_blocks_until_the_reset() -> None:
    clock = FakeClock()
    gov = governor(clock)
    gov.on_send(clock.now)
    gov.on_throttled(7.0, clock.now)
    assert gov.delay(clock.now) == pytest.approx(7.0)
    assert gov.snapshot().throttled == 1
    assert gov.snapshot().blocked_for_s == pytest.approx(7.0)


def test_snapshot_exposes_quota_left_and_reset() -> None:
    clock = FakeClock()
    gov = governor(clock)
    gov.on_send(clock.now)
    gov.observe(WindowReading(450, 440, 20.0, 30.0), clock.now)
    clock.now += 5
    snapshot = gov.snapshot()
    assert (snapshot.quota, snapshot.left, snapshot.window_s) == (450, 440, 30.0)
    assert snapshot.reset_in_s == pytest.approx(15.0)
    assert snapshot.in_flight == 0


async def test_one_probe_goes_first_then_the_rest_are_paced() -> None:
    clock = FakeClock()
    gov = governor(clock)
    order: list[str] = []

    async def caller(name: str) -> None:
        await gov.acquire()
        order.append(f"send {name}@{clock.now - 1000:.2f}")
        await asyncio.sleep(0)
        gov.release(WindowReading(3, max(3 - len(order), 0), 30.0 - (clock.now - 1000), 30.0))

    await asyncio.gather(*(caller(str(i)) for i in range(4)))
    # The probe at 0, then the 2 left spread over the 30 s, then the next window.
    times = [float(entry.split("@")[1]) for entry in order]
    assert times[0] == 0
    assert times == sorted(times)
    assert times[-1] >= 30.0


def test_registry_shares_one_governor_per_host_store_and_family() -> None:
    registry = GovernorRegistry()
    first = registry.get("https://api.bigcommerce.com/", "abc", Family.STORE)
    assert registry.get("https://api.bigcommerce.com", "abc", Family.STORE) is first
    assert registry.get("https://api.bigcommerce.com", "abc", Family.B2B) is not first
    assert registry.get("https://api.bigcommerce.com", "xyz", Family.STORE) is not first
    assert len(registry.snapshots()) == 3


def test_a_governor_taking_over_a_spent_window_waits_instead_of_probing() -> None:
    clock = FakeClock()
    before = governor(clock)
    before.observe(WindowReading(quota=150, left=0, reset_s=6.0, window_s=30.0), clock.now)
    handed = before.handoff(clock.now)
    assert handed == WindowReading(quota=150, left=0, reset_s=6.0, window_s=30.0)
    clock.now += 1.0
    blind, informed = governor(clock), governor(clock)
    informed.take_over(handed, clock.now - 1.0)
    # A new governor knows nothing and lets its probe go; one that took over waits the reset.
    assert blind.delay(clock.now) == 0.0
    assert informed.delay(clock.now) == pytest.approx(5.0)


def test_a_closed_or_unknown_window_is_not_handed_over() -> None:
    clock = FakeClock()
    fresh = governor(clock)
    assert fresh.handoff(clock.now) is None
    fresh.observe(WindowReading(quota=150, left=100, reset_s=2.0, window_s=30.0), clock.now)
    assert fresh.handoff(clock.now + 3.0) is None


def test_a_rate_budget_caps_requests_below_what_the_server_allows() -> None:
    clock = FakeClock()
    gov = Governor(
        "store", Family.STORE, clock=clock, sleep=clock.sleep, budget=RateBudget(20, 10.0)
    )
    server = FakeServer(150, 30.0)
    sent_at: list[float] = []
    # Before any answer the budget is the window: no blind probe, a burst of a quarter.
    for _ in range(5):
        assert gov.delay(clock.now) == 0
        gov.on_send(clock.now)
        sent_at.append(clock.now)
    for reading in [server.take(clock.now) for _ in range(5)]:
        gov.observe(reading, clock.now)
    while clock.now < 1000.0 + 60.0:
        clock.now += gov.delay(clock.now)
        gov.on_send(clock.now)
        sent_at.append(clock.now)
        clock.now += 0.01
        gov.observe(server.take(clock.now), clock.now)
    # The server would take 150 per 30 s; the budget holds in every 10 s span...
    for start in sent_at:
        assert len([t for t in sent_at if start <= t < start + 10.0]) <= 20
    # ...and is used: about 20 per 10 s, not far less.
    assert len(sent_at) >= 6 * 20 - 5


def test_the_registry_applies_a_store_budget_to_its_governor() -> None:
    registry = GovernorRegistry()
    budget = RateBudget(100, 30.0)
    gov = registry.get("https://api.example", "store", Family.STORE, budget)
    assert gov.budget == budget
    assert registry.get("https://api.example", "store", Family.STORE) is gov
    assert gov.budget == budget
