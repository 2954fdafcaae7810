"""Rate limits the way BigCommerce meters them: a fixed 30 s window per store for the store API
(headers `X-Rate-Limit-*`), and 150 requests per minute per store for B2B Edition (headers
`X-Requests-*`). Pure bookkeeping on a monotonic clock; the gateway turns decisions into
headers and 429s."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

UNLIMITED_QUOTA = 1_000_000
"""What the sandbox advertises for the Unlimited plan, which has no fixed quota."""


@dataclass(slots=True)
class WindowDecision:
    allowed: bool
    quota: int
    left: int
    reset_ms: int
    window_ms: int


class FixedWindowLimiter:
    """`quota` requests per `window_ms`; the window opens with the first request after the
    previous one closed, as BigCommerce's `X-Rate-Limit-Time-Reset-Ms` countdown shows."""

    def __init__(
        self,
        quota: int | None,
        window_ms: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quota = quota if quota is not None else UNLIMITED_QUOTA
        self.window_ms = window_ms
        self._monotonic = monotonic
        self._window_start = -math.inf
        self._used = 0
        self.throttled = 0

    def take(self) -> WindowDecision:
        """Spend one request if the window has room; say how much is left either way."""
        now = self._monotonic()
        elapsed_ms = (now - self._window_start) * 1000
        if elapsed_ms >= self.window_ms:
            self._window_start = now
            self._used = 0
            elapsed_ms = 0.0
        reset_ms = max(1, math.ceil(self.window_ms - elapsed_ms))
        if self._used >= self.quota:
            self.throttled += 1
            return WindowDecision(False, self.quota, 0, reset_ms, self.window_ms)
        self._used += 1
        return WindowDecision(True, self.quota, self.quota - self._used, reset_ms, self.window_ms)

    def set_quota(self, quota: int | None) -> None:
        """Change the quota (e.g. a plan change through the admin API); the window keeps running."""
        self.quota = quota if quota is not None else UNLIMITED_QUOTA


def store_api_headers(decision: WindowDecision) -> list[tuple[bytes, bytes]]:
    """The `X-Rate-Limit-*` headers of the store API (api-rate-limits.mdx)."""
    headers = [
        (b"x-rate-limit-time-window-ms", str(decision.window_ms).encode()),
        (b"x-rate-limit-time-reset-ms", str(decision.reset_ms).encode()),
        (b"x-rate-limit-requests-quota", str(decision.quota).encode()),
        (b"x-rate-limit-requests-left", str(decision.left).encode()),
    ]
    if not decision.allowed:
        headers.append((b"x-retry-after", str(math.ceil(decision.reset_ms / 1000)).encode()))
    return headers


def b2b_api_headers(decision: WindowDecision) -> list[tuple[bytes, bytes]]:
    """The `X-Requests-*` headers B2B Edition sends (b2b-edition/about), values with units."""
    window_s = decision.window_ms // 1000
    return [
        (b"x-requests-allocated", f"{decision.quota} times/{window_s} s".encode()),
        (b"x-requests-remaining", f"{decision.left} times".encode()),
        (b"x-requests-window-length", f"{window_s} s".encode()),
        (b"x-request-window-resets-after", f"{decision.reset_ms / 1000:.3f} s".encode()),
    ]
