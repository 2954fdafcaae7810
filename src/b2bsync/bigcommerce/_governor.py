"""The rate-limit governor: one per (API host, store, family), shared by every coroutine.

BigCommerce meters the store API (V2 and V3 together) in a fixed 30 s window and B2B Edition per
minute, and says on every response how much of the window is left. The governor learns that
from the headers, lets a burst of a quarter of the quota go at once and spaces the rest so the
quota lasts until the window resets: a steady workload never sees a 429. Until the first
response has told it the quota, it lets a single probe request through. On a 429 it blocks
every caller until the reset the server gave. With a `RateBudget` (the store's `plan` or
`rate_budget`), it also keeps b2bsync's own requests within the budget, in windows of its own,
whatever quota the server reports, and starts from the budget instead of a probe. The
arithmetic is pure (`delay`, `on_send`, `observe`) and takes the time as an argument;
`acquire`/`release` wrap it for asyncio.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum

from b2bsync.bigcommerce._rate_budget import RateBudget

__all__ = [
    "Family",
    "Governor",
    "GovernorRegistry",
    "GovernorSnapshot",
    "RequestGate",
    "WindowReading",
    "default_registry",
    "gated",
    "read_b2b_headers",
    "read_store_headers",
]


class Family(StrEnum):
    """The two separately metered API families."""

    STORE = "store"
    B2B = "b2b"


RequestGate = Callable[["Family"], Awaitable[None]]
"""Awaited with the API family before each request a governor lets through (retries included):
a caller keeping a share of the quota of its own paces and counts its requests there."""

_gate: ContextVar[RequestGate | None] = ContextVar("b2bsync_request_gate", default=None)


@contextmanager
def gated(gate: RequestGate) -> Iterator[None]:
    """Pass every request of this context, and of the tasks it starts, through `gate`."""
    token = _gate.set(gate)
    try:
        yield
    finally:
        _gate.reset(token)


DEFAULT_BURST_FRACTION = 0.25
"""Share of a window's quota that may be spent at once; the rest is spread over the window,
leaving room for the other apps that share the store's quota."""

SAME_WINDOW_TOLERANCE_S = 1.0
"""Two readings whose reset times differ by less than this describe the same window."""


@dataclass(frozen=True, slots=True)
class WindowReading:
    """What one response said about the rate-limit window."""

    quota: int
    left: int
    reset_s: float
    window_s: float


@dataclass(frozen=True, slots=True)
class GovernorSnapshot:
    """The governor's view, for metrics and the dashboard (`reset_in_s` from now)."""

    store_hash: str
    family: Family
    quota: int | None
    left: int | None
    reset_in_s: float | None
    window_s: float | None
    in_flight: int
    throttled: int
    blocked_for_s: float
    budget: RateBudget | None = None
    """b2bsync's own cap on this store and family (`plan` / `rate_budget`), if any."""


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    match = re.search(r"[-+]?\d+(?:\.\d+)?", text)
    return float(match.group()) if match else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def read_store_headers(headers: Mapping[str, str]) -> WindowReading | None:
    """The `X-Rate-Limit-*` headers of the store API, or None when they are absent."""
    quota = _number(_header(headers, "x-rate-limit-requests-quota"))
    left = _number(_header(headers, "x-rate-limit-requests-left"))
    reset_ms = _number(_header(headers, "x-rate-limit-time-reset-ms"))
    if quota is None or left is None or reset_ms is None:
        return None
    window_ms = _number(_header(headers, "x-rate-limit-time-window-ms")) or 30_000
    return WindowReading(int(quota), int(left), reset_ms / 1000, window_ms / 1000)


_ALLOCATED = re.compile(r"(\d+)\s*times?\s*/\s*(\d+(?:\.\d+)?)\s*s", re.IGNORECASE)


def read_b2b_headers(headers: Mapping[str, str]) -> WindowReading | None:
    """B2B Edition's `X-Requests-Allocated: 150 times/60 s`, `X-Requests-Remaining: 149 times`,
    `X-Request-Window-Resets-After: 0.397 s`, or None when they are absent."""
    allocated = _header(headers, "x-requests-allocated")
    left = _number(_header(headers, "x-requests-remaining"))
    reset_s = _number(_header(headers, "x-request-window-resets-after"))
    match = _ALLOCATED.search(allocated or "")
    if match is None or left is None or reset_s is None:
        return None
    return WindowReading(int(match[1]), int(left), reset_s, float(match[2]))


def _paced_delay(
    quota: int, left: int, reset_at: float, window_s: float, burst_fraction: float, now: float
) -> float:
    """Seconds before the next request of a window: `burst` requests may go at once; after that
    the n-th request waits until n/quota of the window has passed, so the quota lasts until the
    reset."""
    if left <= 0:
        return max(reset_at - now, 0.0)
    used = quota - left
    burst = max(1, int(quota * burst_fraction))
    share = min(max((used + 1 - burst) / quota, 0.0), 1.0)
    earliest = reset_at - window_s * (1.0 - share)
    return max(earliest - now, 0.0)


class Governor:
    """Paces the requests of one store and API family; see the module docstring."""

    def __init__(
        self,
        store_hash: str,
        family: Family,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        burst_fraction: float = DEFAULT_BURST_FRACTION,
        budget: RateBudget | None = None,
    ) -> None:
        self.store_hash = store_hash
        self.burst_fraction = burst_fraction
        self.family = family
        self._clock = clock
        self._sleep = sleep
        self.quota: int | None = None
        self.window_s: float | None = None
        self.left: int | None = None
        self.reset_at: float | None = None
        self.blocked_until = -math.inf
        self.in_flight = 0
        self.throttled = 0
        self._learned = False
        self.budget: RateBudget | None = None
        self._own_left = 0
        self._own_reset_at = -math.inf
        self.limit_to(budget)
        self._lock = asyncio.Lock()
        self._answered = asyncio.Event()

    def limit_to(self, budget: RateBudget | None) -> None:
        """Keep b2bsync's requests within `budget` from now on (None: only the server's quota);
        a known budget replaces the blind probe before the first response."""
        self.budget = budget
        if budget is not None:
            self._learned = True

    # Pure arithmetic: every method takes `now` and touches only this object.

    def delay(self, now: float) -> float:
        """Seconds to wait before the next request may be sent (0 = send now): the longer of
        what the server's window and the budget's window allow."""
        if now < self.blocked_until:
            return self.blocked_until - now
        return max(self._server_delay(now), self._budget_delay(now))

    def _server_delay(self, now: float) -> float:
        if self.reset_at is not None and now >= self.reset_at:
            self._roll_window(now)
        if self.left is None or self.reset_at is None or not self.quota or not self.window_s:
            return 0.0
        return _paced_delay(
            self.quota, self.left, self.reset_at, self.window_s, self.burst_fraction, now
        )

    def _budget_delay(self, now: float) -> float:
        if self.budget is None:
            return 0.0
        self._roll_budget(self.budget, now)
        return _paced_delay(
            self.budget.requests,
            self._own_left,
            self._own_reset_at,
            self.budget.window_s,
            self.burst_fraction,
            now,
        )

    def on_send(self, now: float) -> None:
        """Account for a request sent at `now`."""
        self.in_flight += 1
        if self.left is not None:
            self.left -= 1
        if self.budget is not None:
            self._roll_budget(self.budget, now)
            self._own_left -= 1

    def _roll_budget(self, budget: RateBudget, now: float) -> None:
        if now >= self._own_reset_at:
            self._own_left = budget.requests
            self._own_reset_at = now + budget.window_s

    def observe(self, reading: WindowReading | None, now: float) -> None:
        """Learn from a response received at `now` (None: it carried no rate-limit headers)."""
        self.in_flight = max(self.in_flight - 1, 0)
        self._learned = True
        if reading is None:
            return
        self.quota, self.window_s = reading.quota, reading.window_s
        server_reset = now + reading.reset_s
        # Requests still in flight may already be counted by the server or not; assume not.
        budget = reading.left - self.in_flight
        new_window = self.reset_at is None or server_reset > self.reset_at + SAME_WINDOW_TOLERANCE_S
        if new_window or self.left is None or self.reset_at is None:
            self.left, self.reset_at = budget, server_reset
        elif server_reset >= self.reset_at - SAME_WINDOW_TOLERANCE_S:
            self.left, self.reset_at = min(self.left, budget), server_reset
        # else: an answer from a window that has closed since; it says nothing about this one.

    def on_throttled(self, wait_s: float, now: float) -> None:
        """A 429 with a reset: nobody sends until it has passed, then a fresh window starts."""
        self.in_flight = max(self.in_flight - 1, 0)
        self._learned = True
        self.throttled += 1
        self.blocked_until = max(self.blocked_until, now + wait_s)
        self.left = 0
        self.reset_at = self.blocked_until

    def _roll_window(self, now: float) -> None:
        if self.quota is None or self.window_s is None:
            self.left = self.reset_at = None
            return
        # Our estimate until the first answer of the new window corrects it.
        self.left = self.quota - self.in_flight
        self.reset_at = now + self.window_s

    def handoff(self, now: float) -> WindowReading | None:
        """What this governor knows of the current window, for the next process that calls the
        same store (`take_over`); None when it knows nothing or the window has closed."""
        if self.quota is None or self.window_s is None or self.left is None:
            return None
        reset_at = max(self.reset_at or now, self.blocked_until)
        if reset_at <= now:
            return None
        return WindowReading(self.quota, max(self.left, 0), reset_at - now, self.window_s)

    def budget_handoff(self, now: float) -> WindowReading | None:
        """What this governor has spent of its rate budget's current window, for the next
        process that calls the store (`take_over_budget`); None without a budget or window."""
        if self.budget is None or self._own_reset_at <= now:
            return None
        return WindowReading(
            self.budget.requests,
            max(self._own_left, 0),
            self._own_reset_at - now,
            self.budget.window_s,
        )

    def take_over_budget(self, reading: WindowReading, now: float) -> None:
        """Continue another process's budget window (`budget_handoff`), so a store's budget
        holds across consecutive jobs, not only within one."""
        if self.budget is None:
            return
        self._own_left = min(reading.left, self.budget.requests)
        self._own_reset_at = now + min(reading.reset_s, self.budget.window_s)

    def take_over(self, reading: WindowReading, now: float) -> None:
        """Start from another process's `handoff` (taken `reading.reset_s` before the window
        resets, as of `now`) instead of a blind probe, so its spent budget is not spent twice."""
        self.quota, self.window_s = reading.quota, reading.window_s
        self.left, self.reset_at = reading.left, now + reading.reset_s
        self._learned = True

    def snapshot(self) -> GovernorSnapshot:
        """The current state; `reset_in_s` and `blocked_for_s` are relative to now."""
        now = self._clock()
        return GovernorSnapshot(
            store_hash=self.store_hash,
            family=self.family,
            quota=self.quota,
            left=self.left,
            reset_in_s=None if self.reset_at is None else max(self.reset_at - now, 0.0),
            window_s=self.window_s,
            in_flight=self.in_flight,
            throttled=self.throttled,
            blocked_for_s=max(self.blocked_until - now, 0.0),
            budget=self.budget,
        )

    # asyncio wrappers.

    async def acquire(self) -> None:
        """Wait until a request may be sent (the context's gate first, if any), and count it
        as sent."""
        gate = _gate.get()
        if gate is not None:
            await gate(self.family)
        # The lock queues callers in arrival order, so pacing is fair across coroutines.
        async with self._lock:
            while not self._learned and self.in_flight > 0:
                self._answered.clear()
                await self._answered.wait()
            while (wait := self.delay(self._clock())) > 0:
                await self._sleep(wait)
            self.on_send(self._clock())

    def release(self, reading: WindowReading | None) -> None:
        """Record the answer to an acquired request."""
        self.observe(reading, self._clock())
        self._answered.set()

    def release_throttled(self, wait_s: float | None) -> None:
        """Record a 429: with a wait, block every caller for it; without one (load shedding),
        the caller backs off alone."""
        if wait_s is None:
            self.release(None)
            return
        self.on_throttled(wait_s, self._clock())
        self._answered.set()

    def release_failed(self) -> None:
        """Record a request that got no answer at all."""
        self.in_flight = max(self.in_flight - 1, 0)
        self._answered.set()


class GovernorRegistry:
    """One governor per (API base URL, store hash, family) within the process."""

    def __init__(self) -> None:
        self._governors: dict[tuple[str, str, Family], Governor] = {}

    def get(
        self, base_url: str, store_hash: str, family: Family, budget: RateBudget | None = None
    ) -> Governor:
        """The governor for this API host, store and family, created on first use; a `budget`
        applies to it from now on."""
        key = (base_url.rstrip("/"), store_hash, family)
        governor = self._governors.get(key)
        if governor is None:
            governor = self._governors[key] = Governor(store_hash, family)
        if budget is not None:
            governor.limit_to(budget)
        return governor

    def governors(self) -> list[Governor]:
        """Every governor created so far."""
        return list(self._governors.values())

    def snapshots(self) -> list[GovernorSnapshot]:
        """Every governor's state, for metrics and the dashboard."""
        return [governor.snapshot() for governor in self._governors.values()]


default_registry = GovernorRegistry()
"""The process-wide registry clients use unless given another."""
