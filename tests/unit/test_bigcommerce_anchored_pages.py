"""`anchored_pages`: a scan sorted by modification time that records changed mid-scan cannot
make it skip an unread record (the B2B orders and companies streams page this way)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from b2bsync.bigcommerce._pagination import anchored_pages

T0 = datetime(2026, 11, 1, tzinfo=UTC)
Row = tuple[int, datetime]


class Listing:
    """An in-memory `GET /orders?minModified=&sortBy=updatedAt&orderBy=ASC` with offset paging,
    whose records are touched between pages like a busy store."""

    def __init__(self, count: int, seconds: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.updated = {
            i: T0 + timedelta(seconds=self.rng.randrange(seconds)) for i in range(count)
        }
        self.clock = T0 + timedelta(seconds=seconds)
        self.requests = 0

    async def fetch(self, anchor: datetime, offset: int) -> tuple[list[Row], int]:
        self.requests += 1
        rows = sorted(
            ((i, at) for i, at in self.updated.items() if at >= anchor), key=lambda r: (r[1], r[0])
        )
        page = rows[offset : offset + 10]
        for _ in range(3):
            # Touch some records: they jump to the end of the sort order.
            self.clock += timedelta(seconds=1)
            self.updated[self.rng.randrange(len(self.updated))] = self.clock
        return page, len(page)


@pytest.mark.parametrize("seed", range(8))
async def test_every_record_present_at_the_start_is_read_or_was_touched_later(seed: int) -> None:
    listing = Listing(count=120, seconds=30, seed=seed)
    before = dict(listing.updated)
    started = listing.clock
    seen: list[int] = []
    async for page in anchored_pages(listing.fetch, lambda row: row, T0, 10):
        seen.extend(i for i, _ in page)
    missed = {i for i in before if i not in seen}
    assert all(listing.updated[i] > started for i in missed), missed
    assert len(seen) < 3 * len(before)


async def test_a_full_page_of_one_second_goes_on_by_offset() -> None:
    listing = Listing(count=0, seconds=1, seed=0)
    listing.updated = {i: T0 for i in range(25)}
    pages = []

    async def still(anchor: datetime, offset: int) -> tuple[list[Row], int]:
        rows = sorted((i, at) for i, at in listing.updated.items() if at >= anchor)
        return rows[offset : offset + 10], len(rows[offset : offset + 10])

    async for page in anchored_pages(still, lambda row: row, T0, 10):
        pages.append([i for i, _ in page])
    assert [i for page in pages for i in page] == list(range(25))


async def test_a_full_page_with_records_set_aside_is_not_taken_for_the_last() -> None:
    """Every third record is malformed and dropped by the fetch; paging must still go on."""
    records = [(i, T0 + timedelta(seconds=i)) for i in range(35)]

    async def dropping(anchor: datetime, offset: int) -> tuple[list[Row], int]:
        rows = [row for row in records if row[1] >= anchor][offset : offset + 10]
        return [row for row in rows if row[0] % 3], len(rows)

    seen: list[int] = []
    async for page in anchored_pages(dropping, lambda row: row, T0, 10):
        seen.extend(i for i, _ in page)
    assert sorted(set(seen)) == [i for i in range(35) if i % 3]
