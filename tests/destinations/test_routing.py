"""Routing rules: which orders each destination receives."""

from __future__ import annotations

import pytest

from b2bsync.destinations import Route, destinations_for
from b2bsync.domain.delivery import DeliveryKind
from b2bsync.domain.fingerprint import content_hash
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.origin import OrderOrigin, origin_of
from tests.destinations.conformance import make_record

ONLINE = OrderType.ONLINE_ORDER
PAYMENT = OrderType.INVOICE_PAYMENT
UNCLASSIFIED = OrderType.UNCLASSIFIED


@pytest.mark.parametrize(
    ("order_type", "status_id", "accepted"),
    [
        (ONLINE, 11, True),
        (PAYMENT, 11, True),
        (ONLINE, 5, True),
        (UNCLASSIFIED, 11, False),
        (ONLINE, 0, False),
        (PAYMENT, 0, False),
    ],
)
def test_default_route_skips_unclassified_and_incomplete(
    order_type: OrderType, status_id: int, accepted: bool
) -> None:
    record = make_record(1, order_type=order_type, status_id=status_id)
    assert Route().accepts(record) is accepted


def test_order_types_none_means_every_type() -> None:
    route = Route(order_types=None)
    assert route.accepts(make_record(1, order_type=UNCLASSIFIED))
    assert not route.accepts(make_record(1, order_type=UNCLASSIFIED, status_id=0))


def test_kinds_select_orders_or_payments() -> None:
    payments_only = Route(kinds=frozenset({DeliveryKind.PAYMENT}))
    assert payments_only.accepts(make_record(1, order_type=PAYMENT))
    assert not payments_only.accepts(make_record(1, order_type=ONLINE))
    orders_too = Route(order_types=None, kinds=frozenset({DeliveryKind.ORDER}))
    assert orders_too.accepts(make_record(1, order_type=UNCLASSIFIED))
    assert not orders_too.accepts(make_record(1, order_type=PAYMENT))


def test_statuses_is_an_allow_list_and_may_include_incomplete() -> None:
    route = Route.model_validate({"statuses": [0, 11]})
    assert route.exclude_statuses == frozenset()
    assert route.accepts(make_record(1, status_id=0))
    assert route.accepts(make_record(1, status_id=11))
    assert not route.accepts(make_record(1, status_id=10))


def test_exclusions_replace_the_default() -> None:
    route = Route.model_validate({"exclude_statuses": [5, 6]})
    assert route.accepts(make_record(1, status_id=0))
    assert not route.accepts(make_record(1, status_id=5))
    both = Route.model_validate({"statuses": [2, 5], "exclude_statuses": [5]})
    assert both.accepts(make_record(1, status_id=2))
    assert not both.accepts(make_record(1, status_id=5))


def test_unknown_route_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="status"):
        Route.model_validate({"status": [11]})


def test_destinations_for_keeps_configuration_order() -> None:
    routes = [
        ("erp", Route(order_types=frozenset({ONLINE}))),
        ("accounting", Route(kinds=frozenset({DeliveryKind.PAYMENT}))),
        ("archive", Route(order_types=None, exclude_statuses=frozenset())),
        ("shipped", Route.model_validate({"statuses": [2, 10]})),
    ]
    assert destinations_for(make_record(1, order_type=ONLINE), routes) == ["erp", "archive"]
    assert destinations_for(make_record(1, order_type=PAYMENT, status_id=10), routes) == [
        "accounting",
        "archive",
        "shipped",
    ]
    assert destinations_for(make_record(1, order_type=UNCLASSIFIED, status_id=0), routes) == [
        "archive"
    ]


@pytest.mark.parametrize(
    ("source", "pushed", "origin"),
    [
        ("", False, OrderOrigin.STORE),
        ("  ", False, OrderOrigin.STORE),
        ("b2bsync", False, OrderOrigin.ERP_PUSH),
        ("acme-erp", False, OrderOrigin.EXTERNAL),
        ("acme-erp", True, OrderOrigin.ERP_PUSH),
        ("", True, OrderOrigin.ERP_PUSH),
    ],
)
def test_origin_comes_from_the_external_source_and_the_push_log(
    source: str, pushed: bool, origin: OrderOrigin
) -> None:
    assert origin_of(source, pushed=pushed) is origin


def test_pushed_orders_go_only_where_asked_and_do_not_change_the_content_hash() -> None:
    placed = make_record(1, order_type=ONLINE)
    pushed = placed.model_copy(
        update={"origin": OrderOrigin.ERP_PUSH, "external_source": "b2bsync"}
    )
    assert Route().accepts(placed)
    assert not Route().accepts(pushed)
    assert Route(origins=frozenset({OrderOrigin.ERP_PUSH})).accepts(pushed)
    assert not Route(origins=frozenset({OrderOrigin.ERP_PUSH})).accepts(placed)
    assert Route.model_validate({"origins": ["store", "erp_push"]}).accepts(pushed)
    # Provenance never makes a version: the hash a ledger stored before it existed holds.
    assert content_hash(pushed) == content_hash(placed)
