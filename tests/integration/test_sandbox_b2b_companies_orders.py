"""B2B Edition companies and orders of the sandbox, over HTTP on loopback (order.yaml,
company.yaml, bigcommerce-api.md §0 and §5.3/§5.5)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx2
import pytest

from b2bsync.sandbox.actions import run_due
from b2bsync.sandbox.b2b.companies import create_company
from b2bsync.sandbox.config import DelayRange
from b2bsync.sandbox.models import Address, Customer, ExtraField, Order
from b2bsync.sandbox.orders import LineSpec, archive_order, place_order, total_inc_tax
from b2bsync.sandbox.world import StoreState
from tests.conftest import quiet_config
from tests.integration.b2b_conformance import COMPANIES, ORDERS, conforms
from tests.sandbox_server import RunningSandbox, run_sandbox


@pytest.fixture(scope="module")
def client(sandbox: RunningSandbox) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sandbox.b2b_url, headers=sandbox.headers(b2b=True)) as client:
        yield client


def _store(sandbox: RunningSandbox) -> StoreState:
    return sandbox.world.stores[sandbox.config.store_hash]


def _address(customer: Customer) -> Address:
    return Address(
        first_name=customer.first_name,
        last_name=customer.last_name,
        company="",
        street_1="1 Test Street",
        street_2="",
        city="Austin",
        state="Texas",
        zip="78701",
        country="United States",
        country_iso2="US",
        phone="5125550100",
        email=customer.email,
    )


def _buyer(state: StoreState, *, company: bool = True) -> Customer:
    return next(c for c in state.customers.values() if (c.company_id is not None) is company)


def _place(
    sandbox: RunningSandbox, customer: Customer, *, now: datetime | None = None, **extra: object
) -> Order:
    state = _store(sandbox)
    return place_order(
        state,
        customer_id=customer.id,
        billing_address=_address(customer),
        lines=[LineSpec("Widget", 3, Decimal("10.00"), Decimal("10.83"), sku="WID-1")],
        now=now or sandbox.world.clock(),
        config=sandbox.config,
        **extra,  # type: ignore[arg-type]
    )


# --- companies ------------------------------------------------------------------------------


def test_company_list_pages_and_conforms(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    state = _store(sandbox)
    first = conforms(COMPANIES, "GET", "/companies", client.get("/companies", params={"limit": 2}))
    assert first["meta"]["pagination"] == {
        "totalCount": len(state.companies),
        "offset": 0,
        "limit": 2,
    }
    second = client.get("/companies", params={"limit": 2, "offset": 2}).json()
    ids = [c["companyId"] for c in first["data"] + second["data"]]
    assert len(set(ids)) == 4
    updated = [int(c["updatedAt"]) for c in first["data"]]
    assert updated == sorted(updated, reverse=True)
    company = first["data"][0]
    assert isinstance(company["bcGroupId"], int)
    assert company["companyStatus"] in {"0", "1", "2", "3"}
    assert "extraFields" not in company


def test_company_filters(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    state = _store(sandbox)
    moment = sandbox.world.clock()
    special = create_company(
        state,
        name="Zebra Filter Testers",
        now=moment,
        status=0,
        extra_fields=[ExtraField("Tier", "Gold Plus")],
    )

    def ids(**params: Any) -> list[int]:
        response = client.get("/companies", params={"limit": 100, **params})
        assert response.status_code == 200, response.text
        return [c["companyId"] for c in response.json()["data"]]

    assert ids(q="zebra filter") == [special.id]
    assert ids(companyStatus=0) == [special.id]
    assert ids(bcGroupId=str(special.bc_group_id)) == [special.id]
    assert ids(extraFields="Tier:gold") == [special.id]
    assert ids(extraFields="Tier:gold", extraFieldFilterType="exact-match") == []
    assert ids(minCreated=int(moment.timestamp())) == [special.id]
    assert special.id not in ids(maxCreated=int(moment.timestamp()) - 1)
    assert ids(minModified=int(moment.timestamp()) + 3600) == []
    by_name = client.get("/companies", params={"sortBy": "companyName", "orderBy": "ASC"}).json()
    names = [c["companyName"].lower() for c in by_name["data"]]
    assert names == sorted(names)
    with_extra = client.get("/companies", params={"q": "zebra", "isIncludeExtraFields": "1"})
    assert with_extra.json()["data"][0]["extraFields"] == [
        {"fieldName": "Tier", "fieldValue": "Gold Plus"}
    ]

    buyer = _buyer(state)
    assert ids(customerId=buyer.id) == [buyer.company_id]
    record = next(iter(state.b2b_orders.values()))
    assert ids(bcOrderId=record.bc_order_id) == [record.company_id]
    assert ids(orderId=str(record.bc_order_id)) == [record.company_id]
    assert ids(bcOrderId=999_999) == []


def test_company_detail_and_errors(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    company = next(iter(_store(sandbox).companies.values()))
    detail = conforms(
        COMPANIES, "GET", f"/companies/{company.id}", client.get(f"/companies/{company.id}")
    )["data"]
    assert detail["companyId"] == company.id
    assert detail["companyName"] == company.name
    assert detail["bcGroupId"] == str(company.bc_group_id)
    assert detail["createdAt"] == str(int(company.created_at.timestamp()))
    missing = client.get("/companies/424242")
    assert missing.status_code == 404
    assert missing.json()["data"]["errMsg"] == "Company does not exist"
    assert client.get("/companies", params={"companyStatus": 9}).status_code == 422
    assert client.get("/companies", params={"limit": "many"}).status_code == 422
    assert client.get("/companies", params={"limit": 251}).status_code == 413
    assert client.get("/companies", params={"sortBy": "nope"}).status_code == 422


# --- orders ---------------------------------------------------------------------------------


def test_order_list_defaults_and_conforms(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    state = _store(sandbox)
    body = conforms(ORDERS, "GET", "/orders", client.get("/orders"))
    assert body["meta"]["pagination"]["limit"] == 10
    assert body["meta"]["pagination"]["totalCount"] == len(state.b2b_orders)
    assert len(body["data"]) == 10
    updated = [o["updatedAt"] for o in body["data"]]
    assert updated == sorted(updated, reverse=True)
    first = body["data"][0]
    source = state.orders[first["bcOrderId"]]
    assert first["totalIncTax"] == float(total_inc_tax(source))
    assert first["statusCode"] == source.status_id
    assert first["cartId"] == source.cart_id
    assert "extraFields" not in first
    assert "isInvoiceOrder" not in first


def test_order_list_filters(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    state = _store(sandbox)
    record = next(iter(state.b2b_orders.values()))

    def listed(**params: Any) -> list[dict[str, Any]]:
        response = client.get("/orders", params={"limit": 200, **params})
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    by_company = listed(companyId=record.company_id)
    assert by_company
    assert all(o["companyId"] == record.company_id for o in by_company)
    assert len(by_company) == sum(
        1 for r in state.b2b_orders.values() if r.company_id == record.company_id
    )
    assert [o["bcOrderId"] for o in listed(bcOrderId=record.bc_order_id)] == [record.bc_order_id]
    created = int(state.orders[record.bc_order_id].date_created.timestamp())
    window = listed(minCreated=created, maxCreated=created)
    assert record.bc_order_id in [o["bcOrderId"] for o in window]
    assert all(o["createdAt"] == created for o in window)
    assert listed(minModified=int(sandbox.world.clock().timestamp()) + 60) == []
    ascending = listed(sortBy="createdAt", orderBy="ASC")
    assert [o["createdAt"] for o in ascending] == sorted(o["createdAt"] for o in ascending)
    extra = listed(showExtra="true", bcOrderId=record.bc_order_id)[0]
    assert extra["extraFields"] == [
        {"fieldName": f.field_name, "fieldValue": f.field_value} for f in record.extra_fields
    ]
    assert listed(**{"channelIds[]": 2}) == []
    assert len(listed(**{"channelIds[]": "1,2"})) == len(state.b2b_orders)


def test_order_list_rejects_bad_queries(client: httpx2.Client) -> None:
    assert client.get("/orders", params={"limit": 0}).status_code == 422
    assert client.get("/orders", params={"limit": 201}).status_code == 413
    assert client.get("/orders", params={"limit": 200}).status_code == 200
    bad = client.get("/orders", params={"minCreated": "yesterday"})
    assert bad.status_code == 422
    assert bad.json()["data"]["errMsg"] == "minCreated must be an integer"
    assert client.get("/orders", params={"sortBy": "total"}).status_code == 422
    assert client.get("/orders", params={"orderBy": "sideways"}).status_code == 422
    assert client.get("/orders", params={"showExtra": "perhaps"}).status_code == 422


def test_orders_older_than_a_year_need_a_date_filter(
    sandbox: RunningSandbox, client: httpx2.Client
) -> None:
    state = _store(sandbox)
    old = _place(sandbox, _buyer(state), now=sandbox.world.clock() - timedelta(days=400))
    run_due(state, old.date_created + timedelta(seconds=1))
    assert old.id in state.b2b_orders
    default = client.get("/orders", params={"bcOrderId": old.id}).json()
    assert default["data"] == []
    dated = client.get("/orders", params={"bcOrderId": old.id, "minCreated": 0}).json()
    assert [o["bcOrderId"] for o in dated["data"]] == [old.id]


def test_order_detail(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    state = _store(sandbox)
    record = next(r for r in state.b2b_orders.values() if not r.is_invoice_order)
    response = client.get(f"/orders/{record.bc_order_id}")
    detail = conforms(ORDERS, "GET", f"/orders/{record.bc_order_id}", response)["data"]
    source = state.orders[record.bc_order_id]
    assert isinstance(detail, dict)
    assert detail["id"] == record.id
    assert detail["companyId"] == record.company_id
    assert detail["poNumber"] == record.po_number
    assert detail["isInvoiceOrder"] == 0
    assert detail["invoiceId"] is None
    assert detail["items"] == sum(p.quantity for p in source.products)
    assert detail["createdAt"] == int(source.date_created.timestamp())

    missing = client.get("/orders/999999")
    assert missing.status_code == 404
    assert missing.json()["data"]["errMsg"] == "Order Does Not Exist."
    archived = _place(sandbox, _buyer(state))
    assert client.get(f"/orders/{archived.id}").json()["data"]["isArchived"] is False
    archive_order(state, archived, sandbox.world.clock())
    assert client.get(f"/orders/{archived.id}").json()["data"]["isArchived"] is True

    retail = next(o for o in state.orders.values() if o.id not in state.b2b_orders)
    assert client.get(f"/orders/{retail.id}").status_code == 404
    # The B2B-internal id is not a bcOrderId.
    assert client.get(f"/orders/{record.id}").status_code == 404


def test_order_products(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    state = _store(sandbox)
    record = next(iter(state.b2b_orders.values()))
    path = f"/orders/{record.bc_order_id}/products"
    products = conforms(ORDERS, "GET", path, client.get(path))["data"]
    source = state.orders[record.bc_order_id]
    assert [(p["productId"], p["variantSku"], p["quantity"]) for p in products] == [
        (p.product_id, p.sku, p.quantity) for p in source.products
    ]
    missing = client.get("/orders/999999/products")
    assert missing.status_code == 404
    assert missing.json()["data"]["errMsg"] == "The order does not exist."


def test_order_extra_field_configs(client: httpx2.Client) -> None:
    body = conforms(ORDERS, "GET", "/orders/extra-fields", client.get("/orders/extra-fields"))
    fields = {f["fieldName"]: f for f in body["data"]}
    assert fields["Cost Center"]["isRequired"] is True
    assert fields["Delivery Window"]["fieldType"] == 3
    assert "Morning" in fields["Delivery Window"]["listOfValues"]
    paged = client.get("/orders/extra-fields", params={"limit": 1, "offset": 1}).json()
    assert [f["fieldName"] for f in paged["data"]] == [body["data"][1]["fieldName"]]


def test_update_order_po_number_and_extra_fields(
    sandbox: RunningSandbox, client: httpx2.Client
) -> None:
    state = _store(sandbox)
    order = _place(sandbox, _buyer(state))
    assert client.get(f"/orders/{order.id}").status_code == 200
    modified_before = order.date_modified

    refused = client.put(f"/orders/{order.id}", json={"poNumber": "PO-1"})
    assert refused.status_code == 422
    assert refused.json()["data"]["errMsg"] == "Cost Center is a required extra field"
    assert client.put(f"/orders/{order.id}", json={}).status_code == 422
    bad_choice = client.put(
        f"/orders/{order.id}",
        json={"extraFields": [{"fieldName": "Delivery Window", "fieldValue": "Midnight"}]},
    )
    assert bad_choice.status_code == 422

    accepted = client.put(
        f"/orders/{order.id}",
        json={
            "poNumber": "PO-778",
            "extraFields": [{"fieldName": "Cost Center", "fieldValue": "CC-9"}],
        },
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["message"] == "SUCCESS"
    assert accepted.json()["data"][0]["poNumber"] == "PO-778"
    # Once the required field has a value, a PO-only update is fine.
    assert client.put(f"/orders/{order.id}", json={"poNumber": "PO-779"}).status_code == 200
    detail = client.get(f"/orders/{order.id}").json()["data"]
    assert detail["poNumber"] == "PO-779"
    assert detail["extraFields"] == [{"fieldName": "Cost Center", "fieldValue": "CC-9"}]
    assert order.date_modified == modified_before
    assert client.put("/orders/999999", json={"poNumber": "x"}).status_code == 404


# --- timing: the B2B record and POST /orders ------------------------------------------------

DELAY_S = 2.0


@pytest.fixture(scope="module")
def delayed() -> Iterator[RunningSandbox]:
    """A sandbox whose B2B Edition records new orders 2 s after they are placed."""
    config = quiet_config(orders=20, companies=2, b2b_record_delay=DelayRange(DELAY_S, DELAY_S))
    with run_sandbox(config) as running:
        yield running


def test_record_appears_after_its_delay_only_for_company_buyers(delayed: RunningSandbox) -> None:
    state = _store(delayed)
    with httpx2.Client(base_url=delayed.b2b_url, headers=delayed.headers(b2b=True)) as client:
        placed = time.monotonic()
        b2b_order = _place(delayed, _buyer(state))
        retail_order = _place(delayed, _buyer(state, company=False))
        assert client.get(f"/orders/{b2b_order.id}").status_code == 404
        while client.get(f"/orders/{b2b_order.id}").status_code == 404:
            assert time.monotonic() - placed < DELAY_S + 3, "the B2B record never appeared"
            time.sleep(0.1)
        # The sandbox clock has whole seconds, so "2 s later" is 1 to 2 s of real time.
        assert time.monotonic() - placed >= DELAY_S - 1
        assert client.get(f"/orders/{retail_order.id}").status_code == 404
        listed = client.get("/orders", params={"bcOrderId": retail_order.id}).json()["data"]
        assert listed == []


def test_attach_within_ten_seconds(delayed: RunningSandbox) -> None:
    state = _store(delayed)
    buyer = _buyer(state)
    with httpx2.Client(base_url=delayed.b2b_url, headers=delayed.headers(b2b=True)) as client:
        fresh = _place(delayed, buyer)
        attached = client.post(
            "/orders",
            json={
                "bcOrderId": fresh.id,
                "customerId": buyer.id,
                "poNumber": "PO-FAST",
                "extraFields": [{"fieldName": "Cost Center", "fieldValue": "CC-1"}],
            },
        )
        assert attached.status_code == 200, attached.text
        conforms(ORDERS, "POST", "/orders", attached)
        assert attached.json()["data"]["bcOrderId"] == fresh.id
        assert attached.json()["data"]["poNumber"] == "PO-FAST"
        again = client.post("/orders", json={"bcOrderId": fresh.id, "customerId": buyer.id})
        assert again.status_code == 400
        assert again.json()["data"]["errMsg"] == "The order already exists."

        stale = _place(delayed, buyer, now=delayed.world.clock() - timedelta(seconds=11))
        late = client.post("/orders", json={"bcOrderId": stale.id, "customerId": buyer.id})
        assert late.status_code == 400
        conforms(ORDERS, "POST", "/orders", late)
        assert late.json()["data"]["errMsg"] == "The order already exists."

        assert client.post("/orders", json={"bcOrderId": fresh.id}).status_code == 422
        # B2B Edition's own record, arriving after the delay, keeps the attached data.
        time.sleep(DELAY_S + 0.3)
        detail = client.get(f"/orders/{fresh.id}").json()["data"]
        assert detail["poNumber"] == "PO-FAST"
