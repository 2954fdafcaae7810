"""`web/params.py`: the order list's query parameters."""

from __future__ import annotations

from datetime import UTC, datetime

from b2bsync.domain.order_type import OrderType
from b2bsync.domain.sync_state import SyncState
from b2bsync.web.params import order_query


def test_filters_are_read_and_the_to_day_is_inclusive() -> None:
    query = order_query(
        {
            "type": "invoice_payment",
            "state": "dead",
            "company": "12",
            "from": "2026-03-01",
            "to": "2026-03-31",
            "search": " PO-7 ",
            "page": "3",
            "page_size": "9999",
        },
        "store1",
    )
    f = query.filters
    assert f.store == "store1"
    assert f.order_type is OrderType.INVOICE_PAYMENT
    assert f.sync_state is SyncState.DEAD
    assert f.company_id == 12
    assert f.search == "PO-7"
    assert f.created_from == datetime(2026, 3, 1, tzinfo=UTC)
    assert f.created_to == datetime(2026, 4, 1, tzinfo=UTC)
    assert (query.page, query.page_size) == (3, 500)
    assert query.problems == ()


def test_bad_values_are_named_and_ignored() -> None:
    query = order_query({"type": "sale", "from": "yesterday", "page": "-2", "store": "s2"}, None)
    assert query.filters.order_type is None
    assert query.filters.created_from is None
    assert query.filters.store == "s2"
    assert query.page == 1
    assert query.problems == (
        "ignored type='sale': not a valid type",
        "ignored from='yesterday': not a valid from",
    )
    assert "type" not in query.values
