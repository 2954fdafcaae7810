"""The webhook path's share of the store's API quota, as a token bucket (pure arithmetic).

The store API quota (e.g. 150 requests per 30 s on a Standard plan) is shared with every app
installed on the store, and so is B2B Edition's (150 per minute); each has a bucket of its own.
The webhook-driven sync (micro-batches, the safety-net poll with its
re-checks and write-back) keeps within `share` of it: a batch may start when the bucket holds
its expected cost, and every request it made is taken out afterwards. A quiet store finds the
bucket full, so a callback is processed at once; a busy one drains it, so batches come at the
pace the share allows and each takes every order that arrived meanwhile: the busier the store,
the more orders per scan, at a bounded number of calls.

The bucket holds `headroom` of the share and refills at the rest, so that no window of the
quota's length sees more than the share: burst + refill over the window = share.

The safety-net poll re-reads minutes of orders (tens of pages on a busy store). It runs beside
the batches and each of its requests waits its turn (`poll_wait_s`, `take_for_poll`): while it
runs, `poll_fraction` of the refill is set aside for it (at most one request's worth is kept),
so it always progresses, and it may also take tokens the next batch does not need. Batches keep
the rest, so a poll slows them a little instead of stopping them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["B2B_QUOTA", "DEFAULT_POLL_FRACTION", "DEFAULT_QUOTA", "DEFAULT_SHARE", "QuotaShare"]

DEFAULT_SHARE = 0.2
"""20 % of the store API quota, leaving the rest to the merchant's other apps."""

DEFAULT_QUOTA = (150, 30.0)
"""Store API requests per window assumed until the store's rate-limit headers tell: the Standard
plan's, the smallest BigCommerce sells."""

B2B_QUOTA = (150, 60.0)
"""B2B Edition's quota per store (its own, beside the store API's), until its headers tell."""

_HEADROOM = 0.1

DEFAULT_POLL_FRACTION = 0.25
"""The least part of the refill a running poll gets, however busy the batches are."""

_MIN_BURST = 3.0
"""A batch's usual most: the metafield scan, the live and the archived V2 scans, one page each;
the bucket always holds at least that, so such a batch never borrows against the next window."""


@dataclass(slots=True)
class QuotaShare:
    """A token bucket over `share` of a quota of `quota` requests per `window_s` seconds."""

    share: float = DEFAULT_SHARE
    quota: int = DEFAULT_QUOTA[0]
    window_s: float = DEFAULT_QUOTA[1]
    poll_fraction: float = DEFAULT_POLL_FRACTION
    tokens: float | None = None
    """Requests batches may send now (None: full, before the first use)."""
    at: float | None = None
    """When `tokens` was last brought up to date (monotonic seconds)."""
    polling: bool = False
    """Whether a poll runs, and gets `poll_fraction` of the refill as `poll_credit`."""
    poll_credit: float = 0.0
    """Requests set aside for the running poll (at most one)."""

    def __post_init__(self) -> None:
        if not 0 < self.share <= 1:
            raise ValueError(f"the quota share must be above 0 and at most 1, got {self.share}")
        if not 0 < self.poll_fraction < 1:
            raise ValueError(
                f"the poll's fraction must be above 0 and below 1, got {self.poll_fraction}"
            )

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
        """Refill, in requests per second. The poll's credit of one request is held beside the
        bucket, so it is left out of the refill too."""
        return max(self.allowed - self.capacity - 1.0, 0.0) / self.window_s

    @property
    def _batch_rate(self) -> float:
        return self.rate * (1.0 - self.poll_fraction) if self.polling else self.rate

    def learn(self, quota: int | None, window_s: float | None) -> None:
        """Use the quota the store's rate-limit headers report, when they did."""
        if quota and window_s:
            self.quota, self.window_s = quota, window_s

    def _refill(self, now: float) -> float:
        if self.tokens is None or self.at is None:
            self.tokens = self.capacity
        else:
            elapsed = max(now - self.at, 0.0)
            if self.polling:
                credit = self.poll_credit + elapsed * self.rate * self.poll_fraction
                self.poll_credit = min(1.0, credit)
            self.tokens = min(self.capacity, self.tokens + elapsed * self._batch_rate)
        self.at = now
        return self.tokens

    def wait_s(self, cost: float, now: float) -> float:
        """Seconds until a batch expected to cost `cost` requests may start (0: now). A cost
        above the burst (a catch-up of many pages) waits for a full bucket, not forever, and
        its excess is paid back by the batches after it."""
        tokens = self._refill(now)
        needed = min(cost, self.capacity)
        if tokens >= needed or self._batch_rate == 0:
            return 0.0
        return (needed - tokens) / self._batch_rate

    def start_poll(self, now: float) -> None:
        """A poll starts: from now on part of the refill is set aside for it."""
        self._refill(now)
        self.polling, self.poll_credit = True, 0.0

    def end_poll(self, now: float) -> None:
        """The poll ended: its unused credit lapses (a debt passes to the bucket) and batches
        get the whole refill again."""
        tokens = self._refill(now)
        self.tokens = tokens + min(self.poll_credit, 0.0)
        self.polling, self.poll_credit = False, 0.0

    def poll_wait_s(self, reserve: float, now: float) -> float:
        """Seconds until the running poll may send its next request (0: now): when its credit
        holds a request, or when the bucket holds one beyond `reserve` (the next batch's cost)."""
        tokens = self._refill(now)
        if self.poll_credit >= 1.0 or tokens - 1.0 >= reserve or self.rate == 0:
            return 0.0
        credit_s = (1.0 - self.poll_credit) / (self.rate * self.poll_fraction)
        tokens_s = (reserve + 1.0 - tokens) / self._batch_rate
        return min(credit_s, tokens_s)

    def take_for_poll(self, reserve: float, now: float) -> None:
        """Take one request of the poll's, from the bucket when it holds one beyond `reserve`
        (what would otherwise overflow), else from the poll's credit."""
        tokens = self._refill(now)
        if tokens - 1.0 >= reserve:
            self.tokens = tokens - 1.0
        else:
            self.poll_credit -= 1.0

    def spend(self, calls: int, now: float) -> None:
        """Take `calls` requests out. A round far over budget (the first poll's backfill) is
        remembered only down to one empty bucket's worth of debt, so it delays the next batches
        by a bounded time instead of starving them."""
        tokens = self._refill(now) - calls
        self.tokens = max(tokens, -self.capacity)
