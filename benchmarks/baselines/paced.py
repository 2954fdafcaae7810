"""The one helper such a script has: a GET that waits out a 429 as the headers say.

BigCommerce answers a spent quota with 429 and `X-Rate-Limit-Time-Reset-Ms` (store API) or
`X-Request-Window-Resets-After: 12.345 s` (B2B Edition); the script sleeps that long and asks
again. It does not pace itself before the quota runs out: that is the usual script.
"""

from __future__ import annotations

import time
from typing import Any

import httpx2

FALLBACK_WAIT_S = 1.0
"""How long to wait on a 429 that names no reset time (platform load shedding)."""


def wait_seconds(response: httpx2.Response) -> float:
    """How long a 429 asks the caller to wait."""
    if reset_ms := response.headers.get("X-Rate-Limit-Time-Reset-Ms"):
        return int(reset_ms) / 1000
    if resets_after := response.headers.get("X-Request-Window-Resets-After"):
        return float(resets_after.split()[0])
    if retry_after := response.headers.get("X-Retry-After"):
        return float(retry_after)
    return FALLBACK_WAIT_S


def get(
    http: httpx2.Client, url: str, headers: dict[str, str] | None = None, **params: Any
) -> httpx2.Response:
    """GET `url`, sleeping through 429s; any other error raises."""
    while True:
        response = http.get(url, params=params or None, headers=headers)
        if response.status_code == 429:
            time.sleep(wait_seconds(response))
            continue
        response.raise_for_status()
        return response


def listed(response: httpx2.Response) -> list[Any]:
    """A V2 collection's items; V2 answers an empty collection with 204 and no body."""
    return list(response.json()) if response.status_code == 200 else []


def order_ids(http: httpx2.Client, store_url: str, limit: int | None) -> list[int]:
    """Ids of every order (or the first `limit`), oldest first, 250 per page."""
    ids: list[int] = []
    page = 1
    while limit is None or len(ids) < limit:
        response = get(http, f"{store_url}/v2/orders", limit=250, page=page, sort="id:asc")
        batch = listed(response)
        ids.extend(int(order["id"]) for order in batch)
        if len(batch) < 250:
            break
        page += 1
    return ids if limit is None else ids[:limit]
