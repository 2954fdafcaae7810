"""The incremental scan misses no order, even when orders change while it pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from b2bsync.domain.watermark import (
    PageQuery,
    ScanCursor,
    advance_watermark,
    scan_lower_bound,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def list_orders(
    store: dict[int, datetime], query: PageQuery, limit: int
) -> list[tuple[int, datetime]]:
    """A model of `GET /v2/orders` with min/max_date_modified, min_id, sort and page."""
    rows = [
        (order_id, modified)
        for order_id, modified in store.items()
        if modified >= query.min_date_modified
        and (query.max_date_modified is None or modified <= query.max_date_modified)
        and (query.min_id is None or order_id >= query.min_id)
    ]
    rows.sort(key=(lambda r: r[0]) if query.sort == "id:asc" else (lambda r: (r[1], r[0])))
    start = (query.page - 1) * limit
    return rows[start : start + limit]


@settings(max_examples=300, deadline=None)
@given(
    initial_seconds=st.lists(st.integers(0, 6), min_size=0, max_size=60),
    page_size=st.integers(1, 7),
    touches=st.lists(st.lists(st.integers(0, 59), max_size=4), max_size=40),
)
def test_every_order_present_at_start_is_read(
    initial_seconds: list[int], page_size: int, touches: list[list[int]]
) -> None:
    store = {order_id: T0 + timedelta(seconds=s) for order_id, s in enumerate(initial_seconds)}
    at_start = dict(store)
    clock = T0 + timedelta(seconds=10)
    horizon = clock
    cursor: ScanCursor | None = ScanCursor(anchor=T0, page_size=page_size, horizon=horizon)
    read: set[int] = set()
    steps = 0
    while cursor is not None:
        steps += 1
        assert steps < 10_000, "the scan does not terminate"
        page = list_orders(store, cursor.query(), page_size)
        read.update(order_id for order_id, _ in cursor.fresh(page))
        cursor = cursor.advance(page)
        # Staff and shoppers change orders between our page requests.
        for order_id in touches[steps % len(touches)] if touches else []:
            if order_id in store:
                clock += timedelta(seconds=1)
                store[order_id] = clock
    # Whatever this scan did not read was modified after it began, and the next scan, which
    # starts below the watermark (<= horizon), reads it.
    moved_on = {order_id for order_id, modified in store.items() if modified > horizon}
    assert set(at_start) <= read | moved_on


def test_fresh_drops_orders_already_read_at_the_inclusive_anchor() -> None:
    second = T0 + timedelta(seconds=5)
    cursor = ScanCursor(anchor=T0, page_size=2, horizon=T0 + timedelta(hours=1))
    cursor = cursor.advance([(1, T0), (2, second)])
    assert cursor is not None
    assert cursor.anchor == second
    assert cursor.fresh([(2, second), (3, second)]) == [(3, second)]


def test_a_full_page_in_one_second_finishes_that_second_by_id() -> None:
    cursor = ScanCursor(anchor=T0, page_size=2, horizon=T0 + timedelta(hours=1))
    tied = cursor.advance([(4, T0), (9, T0)])
    assert tied is not None
    query = tied.query()
    assert (query.min_date_modified, query.max_date_modified, query.sort) == (T0, T0, "id:asc")
    assert query.min_id == 1
    nxt = tied.advance([(4, T0), (9, T0)])
    assert nxt is not None
    assert nxt.query().min_id == 10
    done_with_second = nxt.advance([(12, T0)])
    assert done_with_second is not None
    assert done_with_second.tie_second is None
    assert done_with_second.anchor == T0 + timedelta(seconds=1)


def test_short_page_ends_the_scan() -> None:
    assert (
        ScanCursor(anchor=T0, page_size=3, horizon=T0 + timedelta(hours=1)).advance([(1, T0)])
        is None
    )


def test_watermark_moves_only_forward_and_only_to_committed_times() -> None:
    assert advance_watermark(None, []) is None
    assert advance_watermark(T0, []) == T0
    later = T0 + timedelta(minutes=3)
    assert advance_watermark(T0, [later, T0]) == later
    assert advance_watermark(later, [T0]) == later


def test_lower_bound_subtracts_the_overlap() -> None:
    assert scan_lower_bound(T0, timedelta(minutes=5)) == T0 - timedelta(minutes=5)
