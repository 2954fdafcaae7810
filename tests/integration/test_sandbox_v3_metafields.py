"""V3 order metafields of the sandbox over loopback: CRUD, batch, filters, cursors, errors, and
B2B Edition's delayed `orderType` metafield with its webhook."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from b2bsync.sandbox.config import DelayRange
from tests.conftest import quiet_config
from tests.contract.openapi import assert_response_conforms
from tests.integration.test_sandbox_webhooks import Receiver, receiving
from tests.sandbox_server import RunningSandbox, run_sandbox

SPEC = "orders.v3.yml"


@pytest.fixture
def v3(sandbox: RunningSandbox) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=f"{sandbox.store_url}/v3", headers=sandbox.headers()) as client:
        yield client


def _order_ids(sandbox: RunningSandbox, count: int) -> list[int]:
    store = sandbox.world.stores[sandbox.config.store_hash]
    return sorted(store.orders)[:count]


def _new(key: str, **extra: Any) -> dict[str, Any]:
    return {"permission_set": "write", "namespace": "erp", "key": key, "value": "v1", **extra}


def test_crud_on_one_order(sandbox: RunningSandbox, v3: httpx2.Client) -> None:
    order_id = _order_ids(sandbox, 1)[0]
    path = f"/orders/{order_id}/metafields"

    created = v3.post(path, json=_new("crud", description="ERP id"))
    assert created.status_code == 200
    assert_response_conforms(SPEC, "POST", path, created)
    body = created.json()
    metafield = body["data"]
    assert body["meta"] == {}
    assert metafield["resource_id"] == order_id
    assert metafield["resource_type"] == "order"
    assert metafield["owner_client_id"] == sandbox.config.client_id
    assert datetime.fromisoformat(metafield["date_created"]).utcoffset() == timedelta(0)

    one = v3.get(f"{path}/{metafield['id']}")
    assert one.status_code == 200
    assert_response_conforms(SPEC, "GET", f"{path}/{metafield['id']}", one)
    assert one.json()["data"] == metafield

    updated = v3.put(f"{path}/{metafield['id']}", json={"value": "v2"})
    assert updated.status_code == 200
    assert_response_conforms(SPEC, "PUT", f"{path}/{metafield['id']}", updated)
    assert updated.json()["data"]["value"] == "v2"
    assert updated.json()["data"]["key"] == "crud"

    listed = v3.get(path, params={"key": "crud"})
    assert_response_conforms(SPEC, "GET", path, listed)
    assert [m["value"] for m in listed.json()["data"]] == ["v2"]

    deleted = v3.delete(f"{path}/{metafield['id']}")
    assert deleted.status_code == 204
    assert_response_conforms(SPEC, "DELETE", f"{path}/{metafield['id']}", deleted)
    gone = v3.get(f"{path}/{metafield['id']}")
    assert gone.status_code == 404
    assert_response_conforms(SPEC, "GET", f"{path}/{metafield['id']}", gone)


def test_errors_duplicate_invalid_unknown_order(sandbox: RunningSandbox, v3: httpx2.Client) -> None:
    order_id, other_order = _order_ids(sandbox, 2)
    path = f"/orders/{order_id}/metafields"
    original = v3.post(path, json=_new("dup"))
    assert original.status_code == 200

    duplicate = v3.post(path, json=_new("dup", value="other"))
    assert duplicate.status_code == 409
    assert_response_conforms(SPEC, "POST", path, duplicate)

    invalid = v3.post(path, json={"permission_set": "everyone", "namespace": "", "key": "k"})
    assert invalid.status_code == 422
    assert_response_conforms(SPEC, "POST", path, invalid)
    assert set(invalid.json()["errors"]) == {"permission_set", "namespace", "value"}

    too_long = v3.post(path, json=_new("k" * 65))
    assert too_long.status_code == 422
    assert "key" in too_long.json()["errors"]

    syntax = v3.post(path, content=b"{not json", headers={"Content-Type": "application/json"})
    assert syntax.status_code == 400
    assert_response_conforms(SPEC, "POST", path, syntax)

    missing_order = v3.post("/orders/999999/metafields", json=_new("x"))
    assert missing_order.status_code == 404
    assert v3.get("/orders/999999/metafields").status_code == 404
    # The metafield exists, but not on that order.
    elsewhere = v3.get(f"/orders/{other_order}/metafields/{original.json()['data']['id']}")
    assert elsewhere.status_code == 404


def test_batch_create_update_delete(sandbox: RunningSandbox, v3: httpx2.Client) -> None:
    first, second = _order_ids(sandbox, 2)
    created = v3.post(
        "/orders/metafields",
        json=[_new("batch", resource_id=first), _new("batch", resource_id=second)],
    )
    assert created.status_code == 200
    assert_response_conforms(SPEC, "POST", "/orders/metafields", created)
    body = created.json()
    assert body["errors"] == []
    assert body["meta"] == {"total": 2, "success": 2, "failed": 0}
    ids = [m["id"] for m in body["data"]]
    assert [m["resource_id"] for m in body["data"]] == [first, second]

    partial = v3.post(
        "/orders/metafields",
        json=[_new("batch2", resource_id=first), _new("batch", resource_id=first)],
    )
    assert partial.status_code == 422
    assert_response_conforms(SPEC, "POST", "/orders/metafields", partial)
    assert partial.json()["meta"] == {"total": 2, "success": 1, "failed": 1}
    assert partial.json()["errors"][0]["status"] == 409
    ids.append(partial.json()["data"][0]["id"])

    updated = v3.put(
        "/orders/metafields", json=[{"id": ids[0], "value": "new"}, {"id": ids[1], "value": "new"}]
    )
    assert updated.status_code == 200
    assert_response_conforms(SPEC, "PUT", "/orders/metafields", updated)
    assert {m["value"] for m in updated.json()["data"]} == {"new"}

    deleted = v3.request("DELETE", "/orders/metafields", json=[*ids, 987654])
    assert deleted.status_code == 422
    assert_response_conforms(SPEC, "DELETE", "/orders/metafields", deleted)
    assert sorted(deleted.json()["data"]) == sorted(ids)
    assert deleted.json()["meta"] == {"total": 4, "success": 3, "failed": 1}
    remaining = v3.get("/orders/metafields", params={"key:in": "batch,batch2"}).json()
    assert remaining["data"] == []


def test_at_most_250_metafields_per_order_per_client(
    sandbox: RunningSandbox, v3: httpx2.Client
) -> None:
    order_id = _order_ids(sandbox, 4)[-1]
    items = [_new(f"many{i:03}", resource_id=order_id) for i in range(251)]
    response = v3.post("/orders/metafields", json=items)
    assert response.status_code == 422
    assert response.json()["meta"] == {"total": 251, "success": 250, "failed": 1}
    [error] = response.json()["errors"]
    assert error["status"] == 422
    assert "resource_id" in error["errors"]
    ids = [m["id"] for m in response.json()["data"]]
    deleted = v3.request("DELETE", "/orders/metafields", json=ids)
    assert deleted.json()["meta"]["success"] == 250


def _collect(v3: httpx2.Client, params: dict[str, Any]) -> list[dict[str, Any]]:
    response = v3.get("/orders/metafields", params=params)
    assert response.status_code == 200, response.text
    assert_response_conforms(SPEC, "GET", "/orders/metafields", response)
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_filters(sandbox: RunningSandbox, v3: httpx2.Client) -> None:
    orders = _order_ids(sandbox, 3)
    payload = [_new(f"f{i}", namespace=f"ns{i % 2}", resource_id=orders[i % 3]) for i in range(6)]
    created = v3.post("/orders/metafields", json=payload).json()["data"]
    ids = [m["id"] for m in created]
    keys = "f0,f1,f2,f3,f4,f5"

    assert [m["id"] for m in _collect(v3, {"key": "f3"})] == [ids[3]]
    assert [m["id"] for m in _collect(v3, {"key:in": "f1,f4"})] == [ids[1], ids[4]]
    assert [m["id"] for m in _collect(v3, {"key:in": keys, "namespace": "ns1"})] == ids[1::2]
    by_ns_in = _collect(v3, {"key:in": keys, "namespace:in": "ns0,nsX"})
    assert [m["id"] for m in by_ns_in] == ids[0::2]
    desc = _collect(v3, {"key:in": keys, "direction": "desc"})
    assert [m["id"] for m in desc] == ids[::-1]
    # Not validated: the spec marks permission_set required even when include_fields omits it.
    trimmed = v3.get("/orders/metafields", params={"key": "f0", "include_fields": "key,value"})
    assert trimmed.json()["data"] == [{"id": ids[0], "key": "f0", "value": "v1"}]
    unknown_field = v3.get("/orders/metafields", params={"include_fields": "colour"})
    assert unknown_field.status_code == 422

    stamp = datetime.fromisoformat(created[0]["date_modified"])
    today = stamp.date().isoformat()
    naive = stamp.astimezone(UTC).replace(tzinfo=None).isoformat()
    later = (stamp + timedelta(days=1)).date().isoformat()
    for params in (
        {"date_modified:min": naive},
        {"date_modified:min": today},
        {"date_created:min": stamp.isoformat()},
        {"date_created": today},
        {"date_modified:max": later},
        {"date_created:max": (stamp + timedelta(seconds=5)).isoformat()},
    ):
        assert [m["id"] for m in _collect(v3, {"key:in": keys, **params})] == ids, params
    assert _collect(v3, {"key:in": keys, "date_modified:min": later}) == []
    assert _collect(v3, {"key:in": keys, "date_created:max": "2001-01-01"}) == []

    per_order = v3.get(f"/orders/{orders[0]}/metafields", params={"key:in": keys})
    assert_response_conforms(SPEC, "GET", f"/orders/{orders[0]}/metafields", per_order)
    assert [m["id"] for m in per_order.json()["data"]] == [ids[0], ids[3]]

    bad = v3.get("/orders/metafields", params={"date_modified:min": "yesterday"})
    assert bad.status_code == 422
    assert v3.get("/orders/metafields", params={"direction": "up"}).status_code == 422
    assert v3.get("/orders/metafields", params={"limit": 251}).status_code == 422


def test_cursor_and_page_pagination(sandbox: RunningSandbox, v3: httpx2.Client) -> None:
    order_id = _order_ids(sandbox, 1)[0]
    created = v3.post(
        "/orders/metafields", json=[_new(f"page{i:02}", resource_id=order_id) for i in range(11)]
    ).json()["data"]
    ids = [m["id"] for m in created]
    keys = ",".join(m["key"] for m in created)

    seen: list[int] = []
    params: dict[str, Any] = {"key:in": keys, "limit": 4}
    pages = 0
    while True:
        response = v3.get("/orders/metafields", params=params)
        assert_response_conforms(SPEC, "GET", "/orders/metafields", response)
        body = response.json()
        seen += [m["id"] for m in body["data"]]
        pages += 1
        cursor = body["meta"]["cursor_pagination"]
        assert cursor["per_page"] == 4
        assert body["meta"]["pagination"]["total"] == 11
        if "next" not in cursor["links"]:
            break
        params = {"key:in": keys, "limit": 4, "after": cursor["end_cursor"], "page": 7}
    assert seen == ids
    assert pages == 3

    last_page = v3.get("/orders/metafields", params={"key:in": keys, "limit": 4, "page": 3})
    assert [m["id"] for m in last_page.json()["data"]] == ids[8:]
    meta = last_page.json()["meta"]["pagination"]
    assert (meta["current_page"], meta["total_pages"], meta["count"]) == (3, 3, 3)
    start = last_page.json()["meta"]["cursor_pagination"]["start_cursor"]
    back = v3.get("/orders/metafields", params={"key:in": keys, "limit": 4, "before": start})
    assert [m["id"] for m in back.json()["data"]] == ids[4:8]

    backwards = v3.get(
        "/orders/metafields", params={"key:in": keys, "limit": 5, "direction": "desc"}
    )
    end = backwards.json()["meta"]["cursor_pagination"]["end_cursor"]
    following = v3.get(
        "/orders/metafields", params={"key:in": keys, "limit": 5, "direction": "desc", "after": end}
    )
    assert [m["id"] for m in following.json()["data"]] == ids[::-1][5:10]

    both = v3.get("/orders/metafields", params={"after": start, "before": start})
    assert both.status_code == 400
    assert v3.get("/orders/metafields", params={"after": "not-a-cursor"}).status_code == 400


def test_read_only_metafield_of_another_client(sandbox: RunningSandbox, v3: httpx2.Client) -> None:
    store = sandbox.world.stores[sandbox.config.store_hash]
    tagged = next(mf for mf in store.metafields.values() if mf.key == "orderType")
    path = f"/orders/{tagged.resource_id}/metafields/{tagged.id}"
    shown = v3.get(path).json()["data"]
    assert (shown["namespace"], shown["permission_set"], shown["owner_client_id"]) == (
        "b2b_edition",
        "read",
        "b2b-edition",
    )
    assert shown["value"] in ("online order", "invoice payment")
    assert v3.put(path, json={"value": "hacked"}).status_code == 403
    assert v3.get(path).json()["data"]["value"] == shown["value"]
    # Our own metafield with the same namespace and key does not collide with B2B Edition's.
    own = v3.post(
        f"/orders/{tagged.resource_id}/metafields",
        json={
            "permission_set": "read",
            "namespace": "b2b_edition",
            "key": "orderType",
            "value": "x",
        },
    )
    assert own.status_code == 200


def test_every_seeded_order_is_tagged(sandbox: RunningSandbox, v3: httpx2.Client) -> None:
    store = sandbox.world.stores[sandbox.config.store_hash]
    tags: dict[int, str] = {}
    params: dict[str, Any] = {"key": "orderType", "namespace": "b2b_edition", "limit": 250}
    while True:
        body = v3.get("/orders/metafields", params=params).json()
        tags.update(
            {
                m["resource_id"]: m["value"]
                for m in body["data"]
                if m["owner_client_id"] == "b2b-edition"
            }
        )
        cursor = body["meta"]["cursor_pagination"]
        if "next" not in cursor["links"]:
            break
        params = {**params, "after": cursor["end_cursor"]}
    assert tags == {order.id: order.truth_kind for order in store.orders.values()}


def test_order_type_appears_after_its_delay_with_a_webhook() -> None:
    config = quiet_config(metafield_delay=DelayRange(1.0, 1.0), orders=10, companies=2)
    with run_sandbox(config) as sandbox, receiving() as receiver:
        _subscribe(sandbox, receiver, "store/order/metafield/created")
        with httpx2.Client(headers=sandbox.headers()) as client:
            placed = client.post(f"{sandbox.store_url}/v2/orders", json=_minimal_order())
            assert placed.status_code == 200, placed.text
            order_id = placed.json()["id"]
            path = f"{sandbox.store_url}/v3/orders/{order_id}/metafields"
            assert client.get(path, params={"key": "orderType"}).json()["data"] == []
            deadline = time.monotonic() + 5
            tags: list[dict[str, Any]] = []
            while not tags and time.monotonic() < deadline:
                time.sleep(0.1)
                tags = client.get(path, params={"key": "orderType"}).json()["data"]
        assert [t["value"] for t in tags] == ["online order"]
        created_at = datetime.fromisoformat(tags[0]["date_created"])
        order = sandbox.world.stores[config.store_hash].orders[order_id]
        assert created_at - order.date_created >= timedelta(seconds=1)
        callbacks = receiver.wait_for(1)
        assert callbacks[0]["scope"] == "store/order/metafield/created"
        assert callbacks[0]["data"] == {
            "metafield_id": tags[0]["id"],
            "resource_id": str(order_id),
            "namespace": "b2b_edition",
        }


def _minimal_order() -> dict[str, Any]:
    return {
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
            {"name": "Coffee Mug", "quantity": 1, "price_inc_tax": 50, "price_ex_tax": 45}
        ],
    }


def _subscribe(sandbox: RunningSandbox, receiver: Receiver, scope: str) -> None:
    response = httpx2.post(
        f"{sandbox.store_url}/v3/hooks",
        json={"scope": scope, "destination": receiver.url},
        headers=sandbox.headers(),
    )
    assert response.status_code == 200, response.text
