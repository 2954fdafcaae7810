"""The physical limits a sync of a store cannot beat: the fewest API calls the page sizes allow
for the data, and the least time the rate limit allows for a number of calls. Pure arithmetic.

Both quotas are fixed windows (the sandbox meters them as BigCommerce does): the store API
(V2 + V3) allows `quota` requests per 30 s window by plan, B2B Edition 150 per 60 s. A client
that spends a whole window's quota at once still waits for the next window, so `calls` requests
need at least `ceil(calls / quota) - 1` whole windows; the last window's requests go at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

V2_PAGE = 250
"""Orders per `GET /v2/orders` page (V2's maximum `limit`)."""
METAFIELD_PAGE = 250
"""Metafields per `GET /v3/orders/metafields` page (its maximum `limit`)."""
B2B_PAGE = 200
"""Records per B2B Edition `GET /orders` page (its maximum `limit`)."""

STORE_WINDOW_S = 30.0
B2B_WINDOW_S = 60.0
B2B_QUOTA = 150
STORE_QUOTA = {"standard": 150, "plus": 150, "pro": 450, "enterprise": 1500}
"""Store API requests per 30 s window by plan (the sandbox's, from api-rate-limits.mdx)."""


@dataclass(frozen=True)
class DataShape:
    """What a full sync of the store has to read."""

    orders: int
    """Orders the V2 list returns (each page carries products and shipping addresses)."""
    metafields: int
    """`orderType` metafields (the online-vs-invoice signal)."""
    b2b_records: int
    """B2B Edition order records (company, PO number, invoice link)."""


def floor_calls(shape: DataShape) -> dict[str, int]:
    """The fewest calls that read all of `shape`: every list at its largest page."""
    v2 = math.ceil(shape.orders / V2_PAGE)
    metafields = math.ceil(shape.metafields / METAFIELD_PAGE)
    b2b = math.ceil(shape.b2b_records / B2B_PAGE)
    return {
        "v2_pages": v2,
        "metafield_pages": metafields,
        "b2b_pages": b2b,
        "store_api": v2 + metafields,
        "b2b_api": b2b,
        "total": v2 + metafields + b2b,
    }


def window_seconds(calls: int, quota: int, window_s: float) -> float:
    """Least wall time for `calls` requests under a fixed window of `quota` per `window_s`."""
    if calls <= 0:
        return 0.0
    return (math.ceil(calls / quota) - 1) * window_s


def rate_limit_seconds(plan: str, store_api_calls: int, b2b_api_calls: int) -> float | None:
    """Least wall time the plan allows for these calls (the two quotas run side by side);
    None for the unlimited plan, which has no fixed quota."""
    quota = STORE_QUOTA.get(plan)
    if quota is None:
        return None
    return max(
        window_seconds(store_api_calls, quota, STORE_WINDOW_S),
        window_seconds(b2b_api_calls, B2B_QUOTA, B2B_WINDOW_S),
    )


RATE_LIMIT_FORMULA = (
    "T >= max((ceil(C_store / Q_plan) - 1) * 30 s, (ceil(C_b2b / 150) - 1) * 60 s), "
    "Q_plan = 150 (standard), 450 (pro), 1500 (enterprise) store-API requests per 30 s"
)
