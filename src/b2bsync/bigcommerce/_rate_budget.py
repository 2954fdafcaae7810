"""b2bsync's share of a store's API quota: a plan's quota or an explicit `N/Ws` budget.

BigCommerce meters the store API per store, shared by every app installed on it. A budget caps
the requests b2bsync sends in any of its windows below that quota, so the other apps keep
headroom; it also tells the governor the window before the first response does. Pure parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PLAN_BUDGETS", "RateBudget", "parse_rate_budget"]


@dataclass(frozen=True, slots=True)
class RateBudget:
    """At most `requests` store API requests per `window_s` seconds."""

    requests: int
    window_s: float

    def __post_init__(self) -> None:
        if self.requests < 1 or self.window_s <= 0:
            raise ValueError("a rate budget needs at least 1 request per positive window")

    def __str__(self) -> str:
        return f"{self.requests}/{self.window_s:g}s"

    def exceeds(self, other: RateBudget) -> bool:
        """Whether this budget allows more requests per second than `other`."""
        return self.requests / self.window_s > other.requests / other.window_s


PLAN_BUDGETS = {
    "standard": RateBudget(150, 30.0),
    "plus": RateBudget(150, 30.0),
    "pro": RateBudget(450, 30.0),
    "enterprise": RateBudget(1500, 30.0),
}
"""Store API quota per plan (per 30 s window). Enterprise quotas are set per store; 1500 is a
starting point, the response headers (or an explicit `rate_budget`) say the real one."""

_BUDGET = re.compile(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*s\s*")


def parse_rate_budget(text: str) -> RateBudget:
    """`"100/30s"` as a budget; `ValueError` with the reason otherwise."""
    match = _BUDGET.fullmatch(text)
    if match is None:
        raise ValueError(f"expected requests per window such as 100/30s, got {text!r}")
    return RateBudget(int(match[1]), float(match[2]))
