"""The sandbox's V2 Orders API over loopback HTTP, checked against orders.v2.oas2.yml."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx2
import pytest

from tests.conftest import quiet_config
from tests.contract.openapi import conforms
from tests.sandbox_server import RunningSandbox, run_sandbox

SPEC = "orders.v2.oas2.yml"


def conforming(path: str, response: httpx2.Response, method: str = "GET") -> Any:
    """Validate against the spec (with its documented deviations) and return the JSON body.

    The order's `consignments` link cannot be checked by the spec (see KNOWN_DEVIATIONS), so
    its shape is checked here.
    """
    body = conforms(SPEC, method, path, response)
    for order in body if isinstance(body, list) else [body]:
        link = order.get("consignments") if isinstance(order, dict) else None
        if isinstance(link, dict) and set(link) == {"url", "resource"}:
            assert link["resource"] == f"/orders/{order['id']}/consignments"
    return body


def rfc(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def parse(value: str) -> datetime:
    return parsedate_to_datetime(value)


@pytest.fixture(scope="module")
def api(sandbox: RunningSandbox) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=f"{sandbox.store_url}/v2", headers=sandbox.headers()) as client:
        yield client


@pytest.fixture(scope="module")
def every_order(api: httpx2.Client) -> list[dict[str, Any]]:
    """All live seeded orders, read before any test writes."""
    response = api.get("/orders", params={"limit": 250})
    return conforming("/orders", response)  # type: ignore[no-any-return]


def ids(response: httpx2.Response) -> list[int]:
    return [order["id"] for order in response.json()] if response.status_code == 200 else []


# --- listing --------------------------------------------------------------------------------


def test_default_list_is_fifty_orders_by_id(api: httpx2.Client) -> None:
    orders = conforming("/orders", api.get("/orders"))
    assert len(orders) == 50
    assert [o["id"] for o in orders] == sorted(o["id"] for o in orders)
    first = orders[0]
    assert first["products"]["resource"] == f"/orders/{first['id']}/products"
    assert first["products"]["url"].endswith(f"/v2/orders/{first['id']}/products")
    assert isinstance(first["custom_status"], str)
    whole, fraction = first["subtotal_ex_tax"].split(".")
    assert whole.isdigit()
    assert len(fraction) == 4


def test_limit_above_250_is_413_and_junk_is_400(api: httpx2.Client) -> None:
    too_many = api.get("/orders", params={"limit": 251})
    assert too_many.status_code == 413
    assert too_many.json()[0]["status"] == 413
    assert api.get("/orders", params={"limit": 250}).status_code == 200
    for params in ({"limit": "ten"}, {"limit": 0}, {"page": 0}, {"page": "x"}, {"min_id": "a"}):
        response = api.get("/orders", params=params)
        assert response.status_code == 400, params
        assert isinstance(response.json(), list)


def test_empty_results_are_204_with_empty_body(
    api: httpx2.Client, every_order: list[dict[str, Any]]
) -> None:
    past_end = api.get("/orders", params={"page": 100, "limit": 250})
    assert past_end.status_code == 204
    assert past_end.content == b""
    no_match = api.get("/orders", params={"min_id": max(o["id"] for o in every_order) + 10_000})
    assert no_match.status_code == 204
    assert no_match.content == b""


def test_pages_cover_every_order_once(
    api: httpx2.Client, every_order: list[dict[str, Any]]
) -> None:
    seen: list[int] = []
    page = 1
    while (response := api.get("/orders", params={"limit": 7, "page": page})).status_code == 200:
        seen += ids(response)
        page += 1
    assert response.status_code == 204
    assert seen[: len(every_order)] == [o["id"] for o in every_order]


@pytest.mark.parametrize(
    "field", ["id", "customer_id", "date_created", "date_modified", "status_id", "channel_id"]
)
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_orders_by_field_with_id_tiebreak(
    api: httpx2.Client, field: str, direction: str
) -> None:
    orders = conforming(
        "/orders", api.get("/orders", params={"sort": f"{field}:{direction}", "limit": 250})
    )

    def key(order: dict[str, Any]) -> tuple[Any, int]:
        value = order[field]
        return (parse(value) if field.startswith("date_") else value, order["id"])

    keys = [key(o) for o in orders]
    assert keys == sorted(keys, reverse=direction == "desc")
    assert len(orders) > 1


def test_bad_sort_is_400(api: httpx2.Client) -> None:
    assert api.get("/orders", params={"sort": "total:asc"}).status_code == 400
    assert api.get("/orders", params={"sort": "id:up"}).status_code == 400


def test_date_bounds_are_inclusive_in_both_formats(
    api: httpx2.Client, every_order: list[dict[str, Any]]
) -> None:
    target = every_order[len(every_order) // 2]
    for field in ("date_created", "date_modified"):
        moment = parse(target[field])
        eastern = timezone(timedelta(hours=-4))
        for text in (rfc(moment), moment.isoformat(), moment.astimezone(eastern).isoformat()):
            found = ids(
                api.get(
                    "/orders",
                    params={f"min_{field}": text, f"max_{field}": text, "limit": 250},
                )
            )
            assert target["id"] in found, (field, text)
            assert all(parse(o[field]) == moment for o in every_order if o["id"] in found)
        later = rfc(moment + timedelta(seconds=1))
        assert target["id"] not in ids(
            api.get("/orders", params={f"min_{field}": later, "limit": 250})
        )
        earlier = (moment - timedelta(seconds=1)).isoformat()
        assert target["id"] not in ids(
            api.get("/orders", params={f"max_{field}": earlier, "limit": 250})
        )
    assert api.get("/orders", params={"min_date_modified": "yesterday"}).status_code == 400


def _matching(every_order: list[dict[str, Any]], **wanted: Any) -> list[int]:
    return [o["id"] for o in every_order if all(o[k] == v for k, v in wanted.items())]


def test_equality_filters(api: httpx2.Client, every_order: list[dict[str, Any]]) -> None:
    sample = next(o for o in every_order if o["customer_id"] and o["cart_id"])
    cases: list[tuple[dict[str, Any], list[int]]] = [
        ({"status_id": 11}, _matching(every_order, status_id=11)),
        (
            {"customer_id": sample["customer_id"]},
            _matching(every_order, customer_id=sample["customer_id"]),
        ),
        ({"cart_id": sample["cart_id"]}, [sample["id"]]),
        ({"payment_method": "PayPal"}, _matching(every_order, payment_method="PayPal")),
        ({"channel_id": 1}, _matching(every_order, channel_id=1)),
        ({"channel_id": 2}, []),
        (
            {"email": sample["billing_address"]["email"].upper()},
            [
                o["id"]
                for o in every_order
                if o["billing_address"]["email"] == sample["billing_address"]["email"]
            ],
        ),
    ]
    for params, expected in cases:
        assert expected or params == {"channel_id": 2}
        assert ids(api.get("/orders", params={**params, "limit": 250})) == expected, params


def test_id_and_total_ranges(api: httpx2.Client, every_order: list[dict[str, Any]]) -> None:
    low, high = every_order[5]["id"], every_order[15]["id"]
    got = ids(api.get("/orders", params={"min_id": low, "max_id": high}))
    assert got == [o["id"] for o in every_order if low <= o["id"] <= high]
    totals = sorted(Decimal(o["total_inc_tax"]) for o in every_order)
    floor, ceiling = totals[10], totals[30]
    got = ids(
        api.get(
            "/orders", params={"min_total": str(floor), "max_total": str(ceiling), "limit": 250}
        )
    )
    assert got == [o["id"] for o in every_order if floor <= Decimal(o["total_inc_tax"]) <= ceiling]
    assert len(got) >= 21


def test_include_consignments_as_objects(api: httpx2.Client) -> None:
    params = {"include": "consignments", "consignment_structure": "object", "limit": 20}
    orders = conforming("/orders", api.get("/orders", params=params))
    physical = next(o for o in orders if not o["order_is_digital"])
    shipping = physical["consignments"]["shipping"]
    assert len(shipping) == 1
    assert shipping[0]["line_items"][0]["resource"].startswith(
        f"/orders/{physical['id']}/products/"
    )
    assert physical["consignments"]["pickups"] == []

    params["include"] = "consignments.line_items"
    orders = conforming("/orders", api.get("/orders", params=params))
    physical = next(o for o in orders if not o["order_is_digital"])
    line = physical["consignments"]["shipping"][0]["line_items"][0]
    assert line["order_id"] == physical["id"]
    assert line["price_ex_tax"].endswith(tuple("0123456789"))
    assert api.get("/orders", params={"include": "everything"}).status_code == 400


def test_count_by_status(api: httpx2.Client, every_order: list[dict[str, Any]]) -> None:
    body = conforming("/orders/count", api.get("/orders/count"))
    assert body["count"] >= len(every_order)
    by_status = {entry["id"]: entry for entry in body["statuses"]}
    assert set(by_status) == set(range(15))
    assert [e["sort_order"] for e in body["statuses"]] == sorted(
        e["sort_order"] for e in body["statuses"]
    )
    assert by_status[11]["custom_label"] == "Ready to pick"
    assert by_status[11]["system_label"] == "Awaiting Fulfillment"
    assert sum(e["count"] for e in body["statuses"]) == body["count"]
    filtered = api.get("/orders/count", params={"status_id": 2}).json()
    assert filtered["count"] == by_status[2]["count"]
    assert all(e["count"] == 0 for e in filtered["statuses"] if e["id"] != 2)


# --- single orders and writes ---------------------------------------------------------------

NEW_ORDER = {
    "billing_address": {
        "first_name": "Jane",
        "last_name": "Doe",
        "street_1": "123 Main Street",
        "city": "Austin",
        "state": "Texas",
        "zip": "78751",
        "country": "United States",
        "country_iso2": "US",
        "email": "janedoe@example.com",
    },
    "products": [
        {"name": "BigCommerce Coffee Mug", "quantity": 3, "price_inc_tax": 50, "price_ex_tax": 45},
        {"name": "Poster", "quantity": 1, "price_inc_tax": "10.80", "price_ex_tax": "10"},
    ],
    "external_order_id": "erp-991",
    "staff_notes": "created by test",
}


def test_get_unknown_order_is_404(api: httpx2.Client) -> None:
    response = api.get("/orders/999999")
    assert response.status_code == 404
    assert conforming("/orders/999999", response)[0]["status"] == 404
    assert api.get("/orders/abc").status_code == 404


def test_create_get_update_archive_round_trip(sandbox: RunningSandbox, api: httpx2.Client) -> None:
    clock = [datetime(2030, 1, 1, 12, 0, tzinfo=UTC)]
    original_clock = sandbox.world.clock
    sandbox.world.clock = lambda: clock[0]
    try:
        created = api.post("/orders", json=NEW_ORDER)
        order = conforming("/orders", created, "POST")
        assert created.status_code == 200
        assert order["status_id"] == 1
        assert order["status"] == "Pending"
        assert order["subtotal_ex_tax"] == "145.0000"
        assert order["subtotal_inc_tax"] == "160.8000"
        assert order["total_inc_tax"] == "160.8000"
        assert order["items_total"] == 4
        assert order["date_shipped"] == ""
        assert order["external_order_id"] == "erp-991"
        assert order["cart_id"] == ""
        assert order["date_created"] == "Tue, 01 Jan 2030 12:00:00 +0000"
        order_id = order["id"]
        assert conforming(f"/orders/{order_id}", api.get(f"/orders/{order_id}")) == order
        assert ids(api.get("/orders", params={"external_order_id": "erp-991"})) == [order_id]

        clock[0] += timedelta(minutes=5)
        updated = conforming(
            f"/orders/{order_id}",
            api.put(f"/orders/{order_id}", json={"status_id": 11, "staff_notes": "paid"}),
            "PUT",
        )
        assert updated["status_id"] == 11
        assert updated["custom_status"] == "Ready to pick"
        assert updated["staff_notes"] == "paid"
        assert updated["date_modified"] == "Tue, 01 Jan 2030 12:05:00 +0000"
        assert updated["date_created"] == order["date_created"]
        newest = api.get("/orders", params={"sort": "date_modified:desc", "limit": 1}).json()
        assert newest[0]["id"] == order_id
        since = api.get("/orders", params={"min_date_modified": "2030-01-01T12:05:00+00:00"})
        assert ids(since) == [order_id]

        clock[0] += timedelta(minutes=5)
        deleted = api.delete(f"/orders/{order_id}")
        assert deleted.status_code == 204
        assert conforming(f"/orders/{order_id}", deleted, "DELETE") is None
        assert order_id not in ids(api.get("/orders", params={"min_id": order_id}))
        archived = api.get("/orders", params={"is_deleted": "true", "limit": 250}).json()
        assert [o["id"] for o in archived] == [order_id]
        assert archived[0]["is_deleted"] is True
        assert archived[0]["date_modified"] == "Tue, 01 Jan 2030 12:10:00 +0000"
        assert api.get(f"/orders/{order_id}").json()["is_deleted"] is True
        counted = api.get("/orders/count", params={"is_deleted": "true"}).json()
        assert counted["count"] == 1
    finally:
        sandbox.world.clock = original_clock


def test_create_with_catalog_product_and_shipping(
    sandbox: RunningSandbox, api: httpx2.Client
) -> None:
    state = sandbox.world.stores[sandbox.config.store_hash]
    product = next(p for p in state.catalog.values() if p.sku and not p.is_digital)
    customer = next(iter(state.customers.values()))
    body = {
        "billing_address": NEW_ORDER["billing_address"],
        "customer_id": customer.id,
        "products": [{"product_id": product.id, "quantity": 2}],
        "shipping_cost_ex_tax": 10,
        "shipping_cost_inc_tax": 10.83,
        "status_id": 11,
        "payment_method": "Manual",
        "date_created": "Tue, 20 Nov 2012 00:00:00 +0000",
    }
    order = conforming("/orders", api.post("/orders", json=body), "POST")
    assert order["customer_id"] == customer.id
    assert order["date_created"] == "Tue, 20 Nov 2012 00:00:00 +0000"
    assert order["subtotal_ex_tax"] == str((product.price * 2).quantize(Decimal("0.0001")))
    assert order["shipping_cost_inc_tax"] == "10.8300"
    products = conforming(
        f"/orders/{order['id']}/products", api.get(f"/orders/{order['id']}/products")
    )
    assert products[0]["product_id"] == product.id
    assert products[0]["sku"] == product.sku
    one = conforming(
        f"/orders/{order['id']}/products/{products[0]['id']}",
        api.get(f"/orders/{order['id']}/products/{products[0]['id']}"),
    )
    assert one == products[0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"products": NEW_ORDER["products"]}, "billing_address"),
        (
            {"billing_address": {"zip": "7"}, "products": NEW_ORDER["products"]},
            "billing_address.zip",
        ),
        ({"billing_address": NEW_ORDER["billing_address"]}, "products"),
        (
            {
                "billing_address": NEW_ORDER["billing_address"],
                "products": [{"name": "x", "quantity": 1, "price_ex_tax": 1}],
            },
            "products[0].price_inc_tax",
        ),
        (
            {
                "billing_address": NEW_ORDER["billing_address"],
                "products": [{"product_id": 424242, "quantity": 1}],
            },
            "products[0].product_id",
        ),
        ({**NEW_ORDER, "status_id": 99}, "status_id"),
        ({**NEW_ORDER, "customer_id": 987654}, "customer_id"),
        ({**NEW_ORDER, "shipping_cost_ex_tax": 5}, "shipping_cost_inc_tax"),
    ],
)
def test_create_validation_names_the_field(
    api: httpx2.Client, body: dict[str, Any], field: str
) -> None:
    response = api.post("/orders", json=body)
    assert response.status_code == 400
    error = response.json()[0]
    assert error["status"] == 400
    assert f"'{field}'" in error["message"]


def test_update_validation(api: httpx2.Client, every_order: list[dict[str, Any]]) -> None:
    order_id = every_order[0]["id"]
    assert api.put(f"/orders/{order_id}", json={"status_id": 42}).status_code == 400
    assert api.put(f"/orders/{order_id}", json={"is_deleted": "yes"}).status_code == 400
    assert api.put(f"/orders/{order_id}", content=b"{not json").status_code == 400
    assert api.put("/orders/999999", json={"status_id": 2}).status_code == 404


# --- sub-resources --------------------------------------------------------------------------


def test_shipments_move_status_partial_then_shipped(api: httpx2.Client) -> None:
    order = api.post("/orders", json={**NEW_ORDER, "status_id": 11}).json()
    order_id = order["id"]
    base = f"/orders/{order_id}"
    empty = api.get(f"{base}/shipments")
    assert empty.status_code == 204
    assert empty.content == b""
    assert api.get(f"{base}/shipments/count").json() == {"count": 0}
    addresses = conforming(f"{base}/shipping_addresses", api.get(f"{base}/shipping_addresses"))
    assert len(addresses) == 1
    assert api.get(f"{base}/shippingaddresses").json() == addresses
    address = conforming(
        f"{base}/shipping_addresses/{addresses[0]['id']}",
        api.get(f"{base}/shipping_addresses/{addresses[0]['id']}"),
    )
    assert address["items_total"] == 4
    mug, poster = api.get(f"{base}/products").json()

    first = api.post(
        f"{base}/shipments",
        json={
            "order_address_id": address["id"],
            "items": [{"order_product_id": mug["id"], "quantity": 2}],
            "tracking_number": "1Z999",
            "shipping_provider": "ups",
        },
    )
    shipment = conforming(f"{base}/shipments", first, "POST")
    assert first.status_code == 201
    assert shipment["items"] == [{"order_product_id": mug["id"], "product_id": 0, "quantity": 2}]
    after_first = api.get(base).json()
    assert after_first["status_id"] == 3
    assert after_first["items_shipped"] == 2
    assert after_first["date_shipped"] == ""

    too_many = api.post(
        f"{base}/shipments",
        json={
            "order_address_id": address["id"],
            "items": [{"order_product_id": mug["id"], "quantity": 2}],
        },
    )
    assert too_many.status_code == 400
    assert api.post(f"{base}/shipments", json={"items": []}).status_code == 400

    second = api.post(
        f"{base}/shipments",
        json={
            "order_address_id": address["id"],
            "items": [
                {"order_product_id": mug["id"], "quantity": 1},
                {"order_product_id": poster["id"], "quantity": 1},
            ],
        },
    )
    assert second.status_code == 201
    shipped = api.get(base).json()
    assert shipped["status_id"] == 2
    assert shipped["date_shipped"] != ""
    assert shipped["items_shipped"] == 4

    listed = conforming(f"{base}/shipments", api.get(f"{base}/shipments"))
    assert [s["id"] for s in listed] == [shipment["id"], second.json()["id"]]
    assert conforming(f"{base}/shipments/count", api.get(f"{base}/shipments/count")) == {"count": 2}
    one = conforming(
        f"{base}/shipments/{shipment['id']}", api.get(f"{base}/shipments/{shipment['id']}")
    )
    assert one["tracking_number"] == "1Z999"
    put = api.put(f"{base}/shipments/{shipment['id']}", json={"tracking_number": "1Z000"})
    assert (
        conforming(f"{base}/shipments/{shipment['id']}", put, "PUT")["tracking_number"] == "1Z000"
    )

    one_removed = api.delete(f"{base}/shipments/{shipment['id']}")
    assert one_removed.status_code == 204
    conforming(f"{base}/shipments/{shipment['id']}", one_removed, "DELETE")
    assert api.get(f"{base}/shipments/{shipment['id']}").status_code == 404
    still = api.get(base).json()
    assert still["status_id"] == 2
    assert still["items_shipped"] == 2
    removed = api.delete(f"{base}/shipments")
    assert removed.status_code == 204
    conforming(f"{base}/shipments", removed, "DELETE")
    assert api.get(f"{base}/shipments").status_code == 204


def test_consignments_endpoint(api: httpx2.Client, every_order: list[dict[str, Any]]) -> None:
    physical = next(o for o in every_order if not o["order_is_digital"])
    path = f"/orders/{physical['id']}/consignments"
    links = conforming(path, api.get(path))
    assert links["shipping"][0]["line_items"][0]["url"].endswith(
        links["shipping"][0]["line_items"][0]["resource"]
    )
    response = api.get(path, params={"include": "consignments.line_items"})
    expanded = response.json()
    # `line_items` is `oneOf` links / products, and a product object matches both schemas:
    # the lines must be the order's products, the rest is validated without them.
    lines = [line for shipping in expanded["shipping"] for line in shipping.pop("line_items")]
    assert lines == api.get(f"/orders/{physical['id']}/products").json()
    conforming(
        path,
        httpx2.Response(200, json=expanded, request=response.request),
    )
    digital = next((o for o in every_order if o["order_is_digital"]), None)
    if digital is not None:
        body = api.get(f"/orders/{digital['id']}/consignments").json()
        assert body["shipping"] == []
        assert len(body["downloads"]) == 1


def test_order_statuses(api: httpx2.Client) -> None:
    statuses = conforming("/order_statuses", api.get("/order_statuses"))
    assert [s["id"] for s in statuses] == list(range(15))
    assert statuses[0]["name"] == "Incomplete"
    assert statuses[11]["custom_label"] == "Ready to pick"
    one = conforming("/order_statuses/7", api.get("/order_statuses/7"))
    assert one["name"] == "Awaiting Payment"
    assert api.get("/order_statuses/99").status_code == 404


def test_requires_auth(sandbox: RunningSandbox) -> None:
    response = httpx2.get(f"{sandbox.store_url}/v2/orders", headers={"X-Auth-Token": "wrong"})
    assert response.status_code == 401


def test_big_page_with_line_items_renders_fast() -> None:
    import time

    with run_sandbox(quiet_config(orders=3000, companies=10)) as running:
        url = f"{running.store_url}/v2/orders"
        params = {
            "limit": 250,
            "sort": "date_modified:asc",
            "include": "consignments.line_items",
            "consignment_structure": "object",
        }
        with httpx2.Client(headers=running.headers()) as client:
            client.get(url, params={"limit": 1})
            started = time.perf_counter()
            page = client.get(url, params={**params, "page": 5})
            elapsed = time.perf_counter() - started
        assert page.status_code == 200
        assert len(page.json()) == 250
        assert elapsed < 2.0


def test_put_products_has_patch_semantics(api: httpx2.Client) -> None:
    order = api.post("/orders", json=NEW_ORDER).json()
    base = f"/orders/{order['id']}"
    mug, poster = api.get(f"{base}/products").json()
    response = api.put(
        base,
        json={
            "products": [
                {"id": mug["id"], "quantity": 1, "price_ex_tax": 40, "price_inc_tax": 43.3},
                {"id": poster["id"], "quantity": 0},
                {"name": "Coaster", "quantity": 2, "price_ex_tax": 3, "price_inc_tax": 3.25},
            ]
        },
    )
    updated = conforming(base, response, "PUT")
    assert updated["items_total"] == 3
    assert updated["subtotal_ex_tax"] == "46.0000"
    assert updated["subtotal_inc_tax"] == "49.8000"
    lines = api.get(f"{base}/products").json()
    assert [(line["name"], line["quantity"]) for line in lines] == [
        ("BigCommerce Coffee Mug", 1),
        ("Coaster", 2),
    ]
    assert lines[1]["order_address_id"] == lines[0]["order_address_id"]
    unknown = api.put(base, json={"products": [{"id": 999999, "quantity": 1}]})
    assert unknown.status_code == 400
    emptied = api.put(
        base, json={"products": [{"id": line["id"], "quantity": 0} for line in lines]}
    )
    assert emptied.status_code == 400
    assert len(api.get(f"{base}/products").json()) == 2


def test_delete_all_archives_and_empty_subcollections() -> None:
    config = quiet_config(orders=12, companies=2)
    with (
        run_sandbox(config) as running,
        httpx2.Client(base_url=f"{running.store_url}/v2", headers=running.headers()) as client,
    ):
        first = client.get("/orders", params={"limit": 1}).json()[0]["id"]
        address = client.get(f"/orders/{first}/shipping_addresses").json()[0]["id"]
        for sub in ("coupons", "fees", f"shipping_addresses/{address}/shipping_quotes"):
            assert client.get(f"/orders/{first}/{sub}").status_code == 204
        quotes = client.get(f"/orders/{first}/shipping_addresses/999999/shipping_quotes")
        assert quotes.status_code == 404
        assert client.get(f"/orders/{first}/products/999999").status_code == 404
        assert client.get(f"/orders/{first}/shipping_addresses/999999").status_code == 404
        archived = client.delete("/orders", params={"limit": 3})
        assert archived.status_code == 204
        assert conforming("/orders", archived, "DELETE") is None
        assert client.get("/orders/count").json()["count"] == 9
        assert ids(client.get("/orders", params={"is_deleted": "true"}))[0] == first
        assert client.delete("/orders").status_code == 204
        assert client.get("/orders").status_code == 204
        assert client.get("/orders/count", params={"is_deleted": "true"}).json()["count"] == 12
