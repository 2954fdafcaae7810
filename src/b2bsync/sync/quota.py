"""The webhook path's share of the store's API quota, as a token bucket (pure arithmetic).

The store API quota (e.g. 150 requests per 30 s on a Standard plan) is shared with every app
installed on the store. The webhook-driven sync (micro-batches, the safety-net poll with its
re-checks and write-back) keeps within `share` of it: a batch may start when the bucket holds
its expected cost, and every request it made is taken out afterwards. A quiet store finds the
bucket full, so a callback is processed at once; a busy one drains it, so batches come at the
pace the share allows and each takes every order that arrived meanwhile: the busier the store,
the more orders per scan, at a bounded number of calls.

The bucket holds `headroom` of the share and refills at the rest, so that no window of the
quota's length sees more than the share: burst + refill over the window = share.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_QUOTA", "DEFAULT_SHARE", "QuotaShare"]

DEFAULT_SHARE = 0.2
"""20 % of the store API quota, leaving the rest to the merchant's other apps."""

DEFAULT_QUOTA = (150, 30.0)
"""Requests per window assumed until the store's rate-limit headers tell: the Standard plan's,
the smallest BigCommerce sells."""

_HEADROOM = 0.1

_MIN_BURST = 3.0
"""A batch's usual most: the metafield scan, the live and the archived V2 scans, one page each;
the bucket always holds at least that, so such a batch never borrows against the next window."""


@dataclass(slots=True)
class QuotaShare:
    """A token bucket over `share` of a quota of `quota` requests per `window_s` seconds."""

    share: float = DEFAULT_SHARE
    quota: int = DEFAULT_QUOTA[0]
    window_s: float = DEFAULT_QUOTA[1]
    tokens: float | None = None
    """Requests the path may send now (None: full, before the first use)."""
    at: float | None = None
    """When `tokens` was last brought up to date (monotonic seconds)."""

    def __post_init__(self) -> None:
        if not 0 < self.share <= 1:
            raise ValueError(f"the quota share must be above 0 and at most 1, got {self.share}")

    @property
    def allowed(self) -> float:
        """Requests the path may send in one window of the quota."""
        return self.share * self.quota

    @property
    def capacity(self) -> float:
        """The most the bucket holds: what may go out in one burst."""
        return min(self.allowed, max(_MIN_BURST, _HEADROOM * self.allowed))

    @property
    def rate(self) -> float:
        """Refill, in requests per second."""
        return max(self.allowed - self.capacity, 0.0) / self.window_s

    def learn(self, quota: int | None, window_s: float | None) -> None:
        """Use the quota the store's rate-limit headers report, when they did."""
        if quota and window_s:
            self.quota, self.window_s = quota, window_s

    def _refill(self, now: float) -> float:
        if self.tokens is None or self.at is None:
            self.tokens = self.capacity
        else:
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return self.tokens

    def wait_s(self, cost: float, now: float) -> float:
        """Seconds until a batch expected to cost `cost` requests may start (0: now). A cost
        above the burst (a catch-up of many pages) waits for a full bucket, not forever, and
        its excess is paid back by the batches after it."""
        tokens = self._refill(now)
        needed = min(cost, self.capacity)
        if tokens >= needed or self.rate == 0:
            return 0.0
        return (needed - tokens) / self.rate

    def spend(self, calls: int, now: float) -> None:
        """Take `calls` requests out. A round far over budget (the first poll's backfill) is
        remembered only down to one empty bucket's worth of debt, so it delays the next batches
        by a bounded time instead of starving them."""
        tokens = self._refill(now) - calls
        self.tokens = max(tokens, -self.capacity)

    def used_share(self, calls: int, seconds: float) -> float:
        """`calls` over `seconds` as a fraction of the whole quota's rate."""
        if seconds <= 0:
            return 0.0
        return (calls / seconds) / (self.quota / self.window_s)
