"""Baseline (b), the usual "complete" script: list the order ids, then for each order GET the
order, its products, its shipping addresses, its metafields and its B2B Edition record."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx2

from baselines.paced import get, listed, order_ids


def run(
    store_url: str, b2b_url: str, store_hash: str, token: str, limit: int | None = None
) -> dict[str, Any]:
    """Fetch every order (or the first `limit`) with everything about it; returns how many of
    each type it found and how many had a B2B Edition record."""
    kinds: Counter[str] = Counter()
    with_b2b = 0
    headers = {"X-Auth-Token": token, "Accept": "application/json"}
    with httpx2.Client(headers=headers, timeout=60) as http:
        for order_id in order_ids(http, store_url, limit):
            record: dict[str, Any] = {
                "order": get(http, f"{store_url}/v2/orders/{order_id}").json(),
                "products": listed(
                    get(http, f"{store_url}/v2/orders/{order_id}/products", limit=250)
                ),
                "shipping_addresses": listed(
                    get(http, f"{store_url}/v2/orders/{order_id}/shipping_addresses")
                ),
                "metafields": get(http, f"{store_url}/v3/orders/{order_id}/metafields").json()[
                    "data"
                ],
                "b2b": _b2b_record(http, f"{b2b_url}/orders/{order_id}", store_hash),
            }
            order_type = [m["value"] for m in record["metafields"] if m["key"] == "orderType"]
            kinds[order_type[0] if order_type else "unclassified"] += 1
            with_b2b += record["b2b"] is not None
    return {"orders": kinds.total(), "kinds": dict(kinds), "with_b2b_record": with_b2b}


def _b2b_record(http: httpx2.Client, url: str, store_hash: str) -> Any:
    """The order's B2B Edition record, or None for an order no company placed."""
    try:
        return get(http, url, headers={"X-Store-Hash": store_hash}).json()["data"]
    except httpx2.HTTPStatusError as error:
        if error.response.status_code == 404:
            return None
        raise
