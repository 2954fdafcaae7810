"""`decode_order_page`: a V2 order page in one pass, a malformed order set aside alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from b2bsync.bigcommerce._orders import decode_order_page
from b2bsync.domain.rejects import RejectedStream


def raw(order_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": order_id,
        "date_created": "Tue, 20 Oct 2026 10:00:00 +0000",
        "date_modified": f"Wed, 21 Oct 2026 11:{order_id % 60:02d}:00 +0000",
        "status_id": 11,
        "total_inc_tax": "49.5000",
    }
    body.update(overrides)
    return body


def test_a_clean_page_decodes_whole_with_every_position() -> None:
    page = decode_order_page([raw(1), raw(2)])
    assert [order.id for order in page.orders] == [1, 2]
    assert page.rejected == []
    assert page.size == 2
    assert page.positions == [
        (1, datetime(2026, 10, 21, 11, 1, tzinfo=UTC)),
        (2, datetime(2026, 10, 21, 11, 2, tzinfo=UTC)),
    ]


def test_a_malformed_order_is_rejected_alone_and_keeps_its_position() -> None:
    page = decode_order_page([raw(1), raw(2, total_inc_tax="twelve"), raw(3)])
    assert [order.id for order in page.orders] == [1, 3]
    (rejected,) = page.rejected
    assert (rejected.stream, rejected.key, rejected.order_id) == (RejectedStream.V2_ORDER, "2", 2)
    assert rejected.path == "total_inc_tax"
    assert [order_id for order_id, _ in page.positions] == [1, 2, 3]


def test_an_order_without_a_readable_date_has_no_position_but_counts_in_the_page() -> None:
    page = decode_order_page([raw(1), raw(2, date_modified="soon")])
    assert [order.id for order in page.orders] == [1]
    assert [order_id for order_id, _ in page.positions] == [1]
    assert page.size == 2
