"""Decoding records one at a time: the bad one is named and set aside, the rest parse."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from b2bsync.bigcommerce._decode import decode_each
from b2bsync.domain.rejects import RejectedStream


class _Line(BaseModel):
    id: int
    total: Decimal
    sku: str


def _owner(raw: object) -> int | None:
    return raw.get("order_id") if isinstance(raw, dict) else None


def test_one_bad_record_is_rejected_alone_with_its_path_and_owner() -> None:
    items = [
        {"id": 1, "total": "9.50", "sku": "A"},
        {"id": 2, "total": "", "sku": "B", "order_id": 100, "email": "secret@example.com"},
        "not an object",
        {"id": 3, "total": "1", "sku": "C"},
    ]
    good, bad = decode_each(_Line, items, RejectedStream.V2_ORDER, order_of=_owner)
    assert [line.id for line in good] == [1, 3]
    assert len(bad) == 2
    assert bad[0].key == "2"
    assert bad[1].key.startswith("sha256:")
    first = bad[0]
    assert (first.stream, first.order_id, first.path) == (
        RejectedStream.V2_ORDER,
        100,
        "total",
    )
    assert first.reason.startswith("total: ")
    assert "secret@example.com" not in first.reason
    assert '"total": ""' in first.payload


def test_a_record_with_several_problems_says_how_many_more() -> None:
    _, [rejected] = decode_each(_Line, [{"id": "x", "total": []}], RejectedStream.B2B_ORDER)
    assert rejected.path == "id"
    assert rejected.reason.endswith("(and 2 more)")
