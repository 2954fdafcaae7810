"""Baseline (a), the reference approach: list the V2 orders, then ask for each order's
`orderType` metafield to tell online orders from invoice payments."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx2

from baselines.paced import get, listed


def run(store_url: str, token: str, limit: int | None = None) -> dict[str, Any]:
    """Classify every order (or the first `limit`); returns how many of each type it found."""
    kinds: Counter[str] = Counter()
    headers = {"X-Auth-Token": token, "Accept": "application/json"}
    with httpx2.Client(headers=headers, timeout=60) as http:
        page = 1
        while limit is None or kinds.total() < limit:
            response = get(
                http,
                f"{store_url}/v2/orders",
                limit=250,
                page=page,
                sort="id:asc",
                include="consignments.line_items",
            )
            orders = listed(response)
            for order in orders[: None if limit is None else limit - kinds.total()]:
                metafields = get(
                    http, f"{store_url}/v3/orders/{order['id']}/metafields", key="orderType"
                ).json()["data"]
                kinds[metafields[0]["value"] if metafields else "unclassified"] += 1
            if len(orders) < 250:
                break
            page += 1
    return {"orders": kinds.total(), "kinds": dict(kinds)}
