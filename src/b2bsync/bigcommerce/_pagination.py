"""The three pagination styles of BigCommerce, as async iterators of pages.

Each strategy fetches one page, yields it, and decides from that page alone whether another
exists, so memory stays flat however many pages there are. `fetch` sends one GET with the
given query and returns the parsed answer; the API modules bind it to a path and operation.

- V2: `page`/`limit`; the end is a `204`, an empty array or a short page.
- V3: `meta.pagination` (`current_page`/`total_pages`) or cursors (`after=<end_cursor>`).
- B2B Edition: `offset`/`limit` with `totalCount` under `meta.pagination` or directly in `meta`.
- Anchored: a listing sorted by modification time ascending, re-requested from the newest time
  seen (`anchored_pages`), so a record changed during the scan cannot shift an unread one out
  of view.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from b2bsync.bigcommerce._errors import BadPayload
from b2bsync.bigcommerce._http import ApiResponse

__all__ = [
    "Fetch",
    "anchored_pages",
    "b2b_meta",
    "b2b_pages",
    "flatten",
    "v2_pages",
    "v3_cursor_pages",
    "v3_pages",
]

T = TypeVar("T")

Fetch = Callable[[dict[str, Any]], Awaitable[ApiResponse]]
"""Send one GET with these query parameters."""


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _list(value: Any, what: str) -> list[Any]:
    if isinstance(value, list):
        return value
    raise BadPayload(f"expected a JSON array of {what}, got {type(value).__name__}")


async def v2_pages(
    fetch: Fetch,
    params: Mapping[str, Any],
    *,
    limit: int = 250,
    is_last: Callable[[list[Any]], bool] | None = None,
) -> AsyncIterator[list[Any]]:
    """V2 pages of up to `limit` items; `is_last` may end early when a page is known to be the
    last one (e.g. it reached the `max_id` asked for) to save the request that would be empty."""
    page = 1
    while True:
        body = (await fetch({**params, "page": page, "limit": limit})).body
        if body is None:
            return
        items = _list(body, "V2 resources")
        if not items:
            return
        yield items
        if len(items) < limit or (is_last is not None and is_last(items)):
            return
        page += 1


def _v3_data(body: Any) -> tuple[list[Any], dict[str, Any]]:
    if not isinstance(body, dict):
        raise BadPayload(f"expected a V3 envelope object, got {type(body).__name__}")
    meta = body.get("meta")
    data = body.get("data")
    return ([] if data is None else _list(data, "V3 resources")), (
        meta if isinstance(meta, dict) else {}
    )


async def v3_pages(
    fetch: Fetch, params: Mapping[str, Any], *, limit: int = 250
) -> AsyncIterator[list[Any]]:
    """V3 pages by page number, following `meta.pagination`."""
    page = 1
    while True:
        response = await fetch({**params, "page": page, "limit": limit})
        if response.body is None:
            return
        data, meta = _v3_data(response.body)
        if not data:
            return
        yield data
        pagination = meta.get("pagination")
        pagination = pagination if isinstance(pagination, dict) else {}
        total_pages = _int(pagination.get("total_pages"))
        current = _int(pagination.get("current_page")) or page
        per_page = _int(pagination.get("per_page")) or limit
        if total_pages is not None:
            if current >= total_pages:
                return
        elif len(data) < per_page:
            return
        page = current + 1


async def v3_cursor_pages(
    fetch: Fetch, params: Mapping[str, Any], *, limit: int = 250
) -> AsyncIterator[list[Any]]:
    """V3 pages by cursor: `after=<meta.cursor_pagination.end_cursor>` until there is no next."""
    after: str | None = None
    while True:
        query = {**params, "limit": limit}
        if after is not None:
            query["after"] = after
        response = await fetch(query)
        if response.body is None:
            return
        data, meta = _v3_data(response.body)
        if not data:
            return
        yield data
        cursor = meta.get("cursor_pagination")
        cursor = cursor if isinstance(cursor, dict) else {}
        end = cursor.get("end_cursor")
        links = cursor.get("links")
        per_page = _int(cursor.get("per_page")) or limit
        if not end or end == after or len(data) < per_page:
            return
        if isinstance(links, dict) and "next" in links and not links["next"]:
            return
        after = str(end)


def b2b_meta(body: Any) -> dict[str, Any]:
    """B2B list pagination `{totalCount, offset, limit}`, nested under `meta.pagination` (the
    schema) or directly in `meta` (the orders example); empty when neither."""
    meta = body.get("meta") if isinstance(body, dict) else None
    if not isinstance(meta, dict):
        return {}
    nested = meta.get("pagination")
    if isinstance(nested, dict):
        return nested
    return {key: meta[key] for key in ("totalCount", "offset", "limit") if key in meta}


async def b2b_pages(
    fetch: Fetch, params: Mapping[str, Any], *, limit: int = 200
) -> AsyncIterator[list[Any]]:
    """B2B Edition pages by `offset`, until `totalCount` is reached or a page is short."""
    offset = 0
    while True:
        body = (await fetch({**params, "limit": limit, "offset": offset})).body
        if not isinstance(body, dict):
            raise BadPayload("expected a B2B Edition envelope object")
        data = body.get("data")
        items = [] if data is None else _list(data, "B2B Edition resources")
        if not items:
            return
        yield items
        pagination = b2b_meta(body)
        offset += len(items)
        total = _int(pagination.get("totalCount"))
        if total is not None and offset >= total:
            return
        if len(items) < (_int(pagination.get("limit")) or limit):
            return


async def anchored_pages(
    fetch: Callable[[datetime, int], Awaitable[tuple[list[T], int]]],
    key: Callable[[T], tuple[int, datetime]],
    lower: datetime,
    page_size: int,
) -> AsyncIterator[list[T]]:
    """Pages sorted by modification time ascending, each requested from a moving anchor.

    `fetch(anchor, offset)` returns the page's usable records and how many the API returned
    (a malformed record set aside still counts: a full page is not the last one). The anchor
    is inclusive, so rows at the anchor second come back and are dropped by id. A full page
    that is all one second cannot move the anchor; that second goes on by offset.
    """
    anchor = lower
    seen: set[int] = set()
    offset = 0
    while True:
        page, returned = await fetch(anchor, offset)
        keys = [key(item) for item in page]
        fresh = [
            item
            for item, (ident, moment) in zip(page, keys, strict=True)
            if not (moment == anchor and ident in seen)
        ]
        if fresh:
            yield fresh
        if returned < page_size:
            return
        last = max((moment for _, moment in keys), default=anchor)
        if last > anchor:
            anchor, offset = last, 0
            seen = {ident for ident, moment in keys if moment == last}
        else:
            seen |= {ident for ident, _ in keys}
            offset += returned


async def flatten(pages: AsyncIterator[list[Any]]) -> AsyncIterator[Any]:
    """The items of every page, one at a time."""
    async for page in pages:
        for item in page:
            yield item
