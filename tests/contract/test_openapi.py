"""The spec validator itself: it must reject what the specs forbid, or it proves nothing."""

from __future__ import annotations

import httpx2
import pytest

from tests.contract.openapi import SpecViolation, assert_response_conforms


def _response(url: str, status: int, body: object) -> httpx2.Response:
    return httpx2.Response(status, json=body, request=httpx2.Request("GET", url))


STATUS = {
    "id": 1,
    "name": "Pending",
    "system_label": "Pending",
    "custom_label": "Pending",
    "system_description": "Customer started the checkout process.",
    "order": 1,
}


def test_conforming_v2_body_passes() -> None:
    response = _response("http://sb/stores/h/v2/order_statuses", 200, [STATUS])
    assert_response_conforms("orders.v2.oas2.yml", "GET", "/order_statuses", response)


def test_wrong_field_type_is_reported_with_its_location() -> None:
    response = _response("http://sb/stores/h/v2/order_statuses", 200, [{**STATUS, "id": "one"}])
    with pytest.raises(SpecViolation, match=r"0/id: 'one' is not of type 'integer'"):
        assert_response_conforms("orders.v2.oas2.yml", "GET", "/order_statuses", response)


def test_undocumented_status_is_a_violation() -> None:
    response = _response("http://sb/stores/h/v2/order_statuses", 418, {})
    with pytest.raises(SpecViolation):
        assert_response_conforms("orders.v2.oas2.yml", "GET", "/order_statuses", response)


def test_b2b_models_resolve_locally_and_are_enforced() -> None:
    body = {
        "code": 200,
        "meta": {"message": "SUCCESS", "pagination": {"totalCount": 1, "offset": 0, "limit": 10}},
        "data": [{"id": "not-a-number"}],
    }
    response = _response("http://sb/b2b/api/v3/io/ip/invoices", 200, body)
    with pytest.raises(SpecViolation, match="data/0/id"):
        assert_response_conforms(
            "b2b-edition/invoice-management.yaml", "GET", "/invoices", response
        )


def test_documented_deviation_order_detail_object_is_accepted_but_still_checked() -> None:
    url = "http://sb/b2b/api/v3/io/orders/5"
    bad = _response(url, 200, {"code": 200, "meta": {"message": "SUCCESS"}, "data": {"id": "x"}})
    with pytest.raises(SpecViolation, match="data/0/id"):
        assert_response_conforms("b2b-edition/order__order.yaml", "GET", "/orders/5", bad)
