"""Every record an API returns is untrusted: take real records the sandbox serves, replace any
of their fields with any JSON value, and the client either parses the record (and then the
mapping into the caches and drafts never fails) or sets it aside as a `Rejected` / raises its
own `BadPayload`; nothing else ever escapes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from b2bsync.bigcommerce._decode import decode_one, parse
from b2bsync.bigcommerce._errors import BadPayload
from b2bsync.bigcommerce.models.b2b import B2BOrder, Company, Invoice, Payment
from b2bsync.bigcommerce.models.metafields import Metafield
from b2bsync.bigcommerce.models.orders import Order
from b2bsync.domain.rejects import Rejected, RejectedStream
from b2bsync.sync.mapping import (
    b2b_order_signal,
    company_row,
    draft_from_order,
    invoice_row,
    metafield_signal,
    payment_row,
)
from tests.conftest import quiet_config
from tests.sandbox_server import RunningSandbox, run_sandbox

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
"""Any JSON value, nested a little."""

CASES: dict[str, tuple[str, type[BaseModel], RejectedStream, Callable[[Any], object]]] = {
    "company": ("b2b:/companies", Company, RejectedStream.B2B_COMPANY, company_row),
    "b2b_order": ("b2b:/orders", B2BOrder, RejectedStream.B2B_ORDER, b2b_order_signal),
    "invoice": ("b2b:/ip/invoices", Invoice, RejectedStream.B2B_INVOICE, invoice_row),
    "payment": ("b2b:/ip/payments", Payment, RejectedStream.B2B_PAYMENT, payment_row),
    "metafield": (
        "store:/v3/orders/metafields?key=orderType",
        Metafield,
        RejectedStream.ORDER_METAFIELD,
        metafield_signal,
    ),
    "v2_order": (
        "store:/v2/orders?include=consignments.line_items&consignment_structure=object",
        Order,
        RejectedStream.V2_ORDER,
        lambda order: draft_from_order("s", order),
    ),
}


@pytest.fixture(scope="module")
def samples() -> Iterator[dict[str, list[dict[str, Any]]]]:
    """A few real records of each kind, as the sandbox serves them."""
    with run_sandbox(quiet_config(orders=30, companies=4)) as sandbox:
        yield {name: _fetch(sandbox, case[0]) for name, case in CASES.items()}


def _fetch(sandbox: RunningSandbox, where: str) -> list[dict[str, Any]]:
    family, _, path = where.partition(":")
    base = sandbox.b2b_url if family == "b2b" else sandbox.store_url
    answer = httpx2.get(base + path, headers=sandbox.headers(b2b=family == "b2b"), timeout=10)
    answer.raise_for_status()
    body = answer.json()
    records = body["data"] if isinstance(body, dict) else body
    assert records, where
    return list(records[:5])


@pytest.mark.parametrize("kind", sorted(CASES))
def test_any_field_with_any_value_parses_and_maps_or_is_set_aside(
    samples: dict[str, list[dict[str, Any]]], kind: str
) -> None:
    _, model, stream, mapping = CASES[kind]

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        record = dict(data.draw(st.sampled_from(samples[kind])))
        for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
            name = data.draw(st.sampled_from(sorted(record)) | st.text(max_size=8))
            record[name] = data.draw(JSON)
        decoded = decode_one(model, record, stream)
        if isinstance(decoded, Rejected):
            assert decoded.stream is stream
            assert decoded.reason
            with pytest.raises(BadPayload):
                parse(model, record, "fuzz")
            return
        mapping(decoded)

    check()


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_record_that_is_not_an_object_is_set_aside(kind: str) -> None:
    _, model, stream, _ = CASES[kind]
    for junk in (None, 7, "order", [1, 2], True):
        assert isinstance(decode_one(model, junk, stream), Rejected)
        with pytest.raises(BadPayload):
            parse(model, junk, "fuzz")
