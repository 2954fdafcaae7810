"""The three pagination strategies on canned pages (no HTTP): when they stop, what they send."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from b2bsync.bigcommerce._errors import BadPayload
from b2bsync.bigcommerce._http import ApiResponse
from b2bsync.bigcommerce._pagination import b2b_meta, b2b_pages, v2_pages, v3_pages


class Pages:
    """A fetch function answering with the given bodies in turn, recording each query."""

    def __init__(self, *bodies: Any) -> None:
        self.bodies = list(bodies)
        self.queries: list[dict[str, Any]] = []

    async def __call__(self, query: dict[str, Any]) -> ApiResponse:
        self.queries.append(query)
        return ApiResponse(200, httpx2.Headers(), self.bodies[len(self.queries) - 1])


async def collect(pages: AsyncIterator[list[Any]]) -> list[list[Any]]:
    return [page async for page in pages]


async def test_v2_stops_at_204_after_full_pages() -> None:
    fetch = Pages([1, 2], [3, 4], None)
    assert await collect(v2_pages(fetch, {"status_id": 11}, limit=2)) == [[1, 2], [3, 4]]
    assert fetch.queries == [
        {"status_id": 11, "page": 1, "limit": 2},
        {"status_id": 11, "page": 2, "limit": 2},
        {"status_id": 11, "page": 3, "limit": 2},
    ]


async def test_v2_rejects_an_object_where_a_list_belongs() -> None:
    with pytest.raises(BadPayload, match="array"):
        await collect(v2_pages(Pages({"status": 200}), {}, limit=2))


def v3_body(data: list[int], current: int, total_pages: int) -> dict[str, Any]:
    return {
        "data": data,
        "meta": {
            "pagination": {
                "total": 5,
                "count": len(data),
                "per_page": 2,
                "current_page": current,
                "total_pages": total_pages,
            }
        },
    }


async def test_v3_follows_total_pages() -> None:
    fetch = Pages(v3_body([1, 2], 1, 3), v3_body([3, 4], 2, 3), v3_body([5], 3, 3))
    assert await collect(v3_pages(fetch, {}, limit=2)) == [[1, 2], [3, 4], [5]]
    assert [query["page"] for query in fetch.queries] == [1, 2, 3]


async def test_v3_without_meta_stops_on_a_short_page() -> None:
    fetch = Pages({"data": [1, 2]}, {"data": [3]})
    assert await collect(v3_pages(fetch, {}, limit=2)) == [[1, 2], [3]]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"meta": {"pagination": {"totalCount": 3, "offset": 0, "limit": 2}}}, 3),
        ({"meta": {"totalCount": "3", "offset": 0, "limit": 2, "message": "SUCCESS"}}, "3"),
        ({"meta": {"message": "SUCCESS"}}, None),
    ],
)
def test_b2b_meta_nested_flat_or_missing(body: dict[str, Any], expected: object) -> None:
    assert b2b_meta(body).get("totalCount") == expected


async def test_b2b_without_total_stops_on_a_short_page() -> None:
    fetch = Pages({"data": [1, 2]}, {"data": [3]})
    assert await collect(b2b_pages(fetch, {"q": "x"}, limit=2)) == [[1, 2], [3]]
    assert fetch.queries == [
        {"q": "x", "limit": 2, "offset": 0},
        {"q": "x", "limit": 2, "offset": 2},
    ]


async def test_b2b_rejects_a_body_without_an_envelope() -> None:
    with pytest.raises(BadPayload, match="envelope"):
        await collect(b2b_pages(Pages([1, 2]), {}, limit=2))
