"""Webhooks of the sandbox over loopback: the hooks API, and callbacks received by a real HTTP
receiver (payload, custom headers, Standard Webhooks signature, retries, deactivation,
duplicates, wildcards, blocklisting)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from b2bsync.sandbox.config import SandboxConfig
from tests.conftest import quiet_config
from tests.contract.openapi import assert_response_conforms
from tests.sandbox_server import RunningSandbox, run_sandbox

SPEC = "webhooks.v3.yml"
SECRET = "client-secret-for-tests"


class Receiver:
    """A callback endpoint on loopback that records what it gets and answers `status`."""

    def __init__(self, port: int, status: int) -> None:
        self.url = f"http://127.0.0.1:{port}/webhooks"
        self.status = status
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.requests.append((dict(request.headers), body))
        return Response(status_code=self.status)

    @property
    def payloads(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(body) for _, body in self.requests]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The payloads once at least `count` arrived; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"got {len(self.requests)} of {count} callbacks"
            time.sleep(0.02)
        return self.payloads


@contextmanager
def receiving(status: int = 200) -> Iterator[Receiver]:
    """Serve a Receiver on a free loopback port for the duration of the block."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    receiver = Receiver(port, status)
    app = Starlette(routes=[Route("/webhooks", receiver.endpoint, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def _client(sandbox: RunningSandbox) -> httpx2.Client:
    return httpx2.Client(base_url=f"{sandbox.store_url}/v3", headers=sandbox.headers())


def _metafield(client: httpx2.Client, order_id: int, key: str) -> dict[str, Any]:
    response = client.post(
        f"/orders/{order_id}/metafields",
        json={"permission_set": "read", "namespace": "t", "key": key, "value": "1"},
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _first_order(sandbox: RunningSandbox) -> int:
    return min(sandbox.world.stores[sandbox.config.store_hash].orders)


@contextmanager
def _sandbox(**overrides: Any) -> Iterator[RunningSandbox]:
    config: SandboxConfig = quiet_config(orders=8, companies=2, **overrides)
    with run_sandbox(config) as running:
        yield running


def test_hooks_api_crud_and_validation(sandbox: RunningSandbox) -> None:
    with _client(sandbox) as client:
        body = {
            "scope": "store/order/created",
            "destination": "https://app.example.com/webhooks/bc",
            "headers": {"X-Webhook-Token": "s3cret"},
        }
        created = client.post("/hooks", json=body)
        assert created.status_code == 200, created.text
        assert_response_conforms(SPEC, "POST", "/hooks", created)
        hook = created.json()["data"]
        assert hook["is_active"] is True
        assert hook["client_id"] == sandbox.config.client_id
        assert hook["store_hash"] == sandbox.config.store_hash
        assert isinstance(hook["created_at"], int)

        for bad in (
            {**body, "destination": "https://app.example.com:8443/x"},
            {**body, "destination": "http://app.example.com/x"},
            {**body, "scope": "store/order/exploded"},
            {"scope": "store/order/created"},
            {**body, "headers": {"X": 1}},
        ):
            refused = client.post("/hooks", json=bad)
            assert refused.status_code == 422, bad
            assert_response_conforms(SPEC, "POST", "/hooks", refused)
        duplicate = client.post("/hooks", json=body)
        assert duplicate.status_code == 422
        assert (
            client.post(
                "/hooks", content=b"[", headers={"Content-Type": "application/json"}
            ).status_code
            == 400
        )

        for number in range(9):
            more = client.post(
                "/hooks", json={**body, "destination": f"https://h{number}.example.com/"}
            )
            assert more.status_code == 200
        eleventh = client.post("/hooks", json={**body, "destination": "https://h11.example.com/"})
        assert eleventh.status_code == 422
        assert "scope" in eleventh.json()["errors"]

        path = f"/hooks/{hook['id']}"
        fetched = client.get(path)
        assert_response_conforms(SPEC, "GET", path, fetched)
        assert fetched.json()["data"] == hook
        assert client.put(path, json={}).status_code == 422
        updated = client.put(path, json={"is_active": False, "headers": None})
        assert_response_conforms(SPEC, "PUT", path, updated)
        assert (updated.json()["data"]["is_active"], updated.json()["data"]["headers"]) == (
            False,
            None,
        )

        listed = client.get(
            "/hooks", params={"scope": "store/order/created", "limit": 4, "page": 2}
        )
        assert_response_conforms(SPEC, "GET", "/hooks", listed)
        pagination = listed.json()["meta"]["pagination"]
        assert (pagination["total"], pagination["count"], pagination["total_pages"]) == (10, 4, 3)
        inactive = client.get("/hooks", params={"is_active": "false"}).json()["data"]
        assert [h["id"] for h in inactive] == [hook["id"]]
        by_destination = client.get("/hooks", params={"destination": "https://h3.example.com/"})
        assert len(by_destination.json()["data"]) == 1

        emails = client.put("/hooks/admin", json={"emails": ["ops@example.com"]})
        assert emails.status_code == 204
        assert_response_conforms(SPEC, "PUT", "/hooks/admin", emails)
        admin = client.get("/hooks/admin", params={"is_active": "false"})
        assert_response_conforms(SPEC, "GET", "/hooks/admin", admin)
        assert admin.json()["data"]["emails"] == ["ops@example.com"]
        assert [(h["id"], h["status"]) for h in admin.json()["data"]["hooks_list"]] == [
            (hook["id"], "inactive")
        ]

        deleted = client.delete(path)
        assert deleted.status_code == 200
        assert_response_conforms(SPEC, "DELETE", path, deleted)
        assert deleted.json()["data"]["id"] == hook["id"]
        missing = client.get(path)
        assert missing.status_code == 404
        assert_response_conforms(SPEC, "GET", path, missing)
        for other in client.get("/hooks").json()["data"]:
            assert client.delete(f"/hooks/{other['id']}").status_code == 200


def test_callbacks_carry_payload_custom_headers_and_signature() -> None:
    with (
        _sandbox(webhook_client_secret=SECRET) as sandbox,
        receiving() as receiver,
        _client(sandbox) as client,
    ):
        client.post(
            "/hooks",
            json={
                "scope": "store/order/metafield/created",
                "destination": receiver.url,
                "headers": {"X-Webhook-Token": "s3cret"},
            },
        ).raise_for_status()
        order_id = _first_order(sandbox)
        metafield = _metafield(client, order_id, "signed")
        [payload] = receiver.wait_for(1)
        headers, raw = receiver.requests[0]

    assert payload["scope"] == "store/order/metafield/created"
    assert payload["producer"] == f"stores/{sandbox.config.store_hash}"
    assert payload["store_id"].isdigit()
    assert isinstance(payload["created_at"], int)
    assert payload["data"] == {
        "metafield_id": metafield["id"],
        "resource_id": str(order_id),
        "namespace": "t",
    }
    unhashed = {k: v for k, v in payload.items() if k != "hash"}
    expected_hash = hashlib.sha1(
        json.dumps(unhashed, sort_keys=True, separators=(",", ":")).encode(),
        usedforsecurity=False,
    ).hexdigest()
    assert payload["hash"] == expected_hash
    assert headers["x-webhook-token"] == "s3cret"
    assert headers["content-type"] == "application/json"
    # Verify as the Standard Webhooks libraries do with BigCommerce's base64-encoded secret.
    key = base64.b64decode(base64.b64encode(SECRET.encode()))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + raw
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{signature}"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 30


def test_no_signature_headers_without_a_client_secret(sandbox: RunningSandbox) -> None:
    with receiving() as receiver, _client(sandbox) as client:
        hook = client.post(
            "/hooks", json={"scope": "store/order/metafield/updated", "destination": receiver.url}
        ).json()["data"]
        metafield = _metafield(client, _first_order(sandbox), "unsigned")
        client.put(
            f"/orders/{metafield['resource_id']}/metafields/{metafield['id']}", json={"value": "2"}
        ).raise_for_status()
        [payload] = receiver.wait_for(1)
        headers = receiver.requests[0][0]
        client.delete(f"/hooks/{hook['id']}").raise_for_status()
    assert payload["scope"] == "store/order/metafield/updated"
    assert "webhook-signature" not in headers


def test_wildcard_scopes_receive_every_event_below_them(sandbox: RunningSandbox) -> None:
    with receiving() as orders, receiving() as generic, _client(sandbox) as client:
        hooks = [
            client.post("/hooks", json={"scope": scope, "destination": receiver.url}).json()
            for scope, receiver in (("store/order/*", orders), ("store/metafield/*", generic))
        ]
        metafield = _metafield(client, _first_order(sandbox), "wild")
        client.delete(f"/orders/{metafield['resource_id']}/metafields/{metafield['id']}")
        order_payloads = orders.wait_for(2)
        generic_payloads = generic.wait_for(2)
        for hook in hooks:
            client.delete(f"/hooks/{hook['data']['id']}").raise_for_status()
    assert sorted(p["scope"] for p in order_payloads) == [
        "store/order/metafield/created",
        "store/order/metafield/deleted",
    ]
    assert order_payloads[0]["hash"] != order_payloads[1]["hash"]
    assert sorted(p["scope"] for p in generic_payloads) == [
        "store/metafield/created",
        "store/metafield/deleted",
    ]
    assert generic_payloads[0]["data"] == {
        "metafield_id": metafield["id"],
        "resource_id": str(metafield["resource_id"]),
        "resource_type": "order",
    }


def test_inactive_hooks_get_nothing(sandbox: RunningSandbox) -> None:
    with receiving() as receiver, _client(sandbox) as client:
        hook = client.post(
            "/hooks",
            json={
                "scope": "store/order/metafield/created",
                "destination": receiver.url,
                "is_active": False,
            },
        ).json()["data"]
        _metafield(client, _first_order(sandbox), "quiet")
        time.sleep(0.3)
        client.delete(f"/hooks/{hook['id']}").raise_for_status()
    assert receiver.requests == []


def test_duplicates_share_the_hash() -> None:
    with (
        _sandbox(webhook_duplicate_rate=1.0, webhook_client_secret=SECRET) as sandbox,
        receiving() as receiver,
        _client(sandbox) as client,
    ):
        client.post(
            "/hooks", json={"scope": "store/order/metafield/created", "destination": receiver.url}
        ).raise_for_status()
        _metafield(client, _first_order(sandbox), "twice")
        first, second = receiver.wait_for(2)
        time.sleep(0.2)
        assert len(receiver.requests) == 2
    assert first == second
    assert receiver.requests[0][0]["webhook-id"] == receiver.requests[1][0]["webhook-id"]


def test_failing_destination_is_retried_then_deactivated() -> None:
    # The documented schedule sums to 173,040 s; scaled by 1e-5 it takes under 2 s.
    with (
        _sandbox(time_scale=1e-5) as sandbox,
        receiving(status=500) as receiver,
        _client(sandbox) as client,
    ):
        hook = client.post(
            "/hooks", json={"scope": "store/order/metafield/created", "destination": receiver.url}
        ).json()["data"]
        _metafield(client, _first_order(sandbox), "retried")
        receiver.wait_for(12, timeout=10)
        deadline = time.monotonic() + 5
        while client.get(f"/hooks/{hook['id']}").json()["data"]["is_active"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.2)
        admin = client.get("/hooks/admin")
        assert_response_conforms(SPEC, "GET", "/hooks/admin", admin)
        stats = httpx2.get(f"{sandbox.base_url}/__sandbox/stats", headers=sandbox.headers()).json()

        assert len(receiver.requests) == 12
        hashes = {p["hash"] for p in receiver.payloads}
        assert len(hashes) == 1
        [listed] = admin.json()["data"]["hooks_list"]
        assert (listed["id"], listed["status"], listed["is_active"]) == (
            hook["id"],
            "deactivated",
            False,
        )
        counters = stats["webhooks"]["by_hook"][str(hook["id"])]
        assert counters["attempts"] == 12
        assert counters["failed_attempts"] == 12
        assert counters["retries_scheduled"] == 11
        assert counters["last_status"] == 500

        reactivated = client.put(f"/hooks/{hook['id']}", json={"is_active": True})
        assert reactivated.json()["data"]["is_active"] is True
        [again] = client.get("/hooks/admin").json()["data"]["hooks_list"]
        assert again["status"] == "active"


def test_a_mostly_failing_domain_is_blocklisted() -> None:
    with _sandbox() as sandbox, receiving(status=503) as receiver, _client(sandbox) as client:
        client.post(
            "/hooks", json={"scope": "store/order/metafield/created", "destination": receiver.url}
        ).raise_for_status()
        order_id = _first_order(sandbox)
        batch = [
            {
                "permission_set": "read",
                "namespace": "bulk",
                "key": f"k{i}",
                "value": "1",
                "resource_id": order_id,
            }
            for i in range(110)
        ]
        assert client.post("/orders/metafields", json=batch).status_code == 200
        receiver.wait_for(100, timeout=10)
        deadline = time.monotonic() + 5
        blocked: list[dict[str, Any]] = []
        while not blocked:
            assert time.monotonic() < deadline
            blocked = client.get("/hooks/admin").json()["data"]["blocked_domains"]
            time.sleep(0.05)
        sent = len(receiver.requests)
        _metafield(client, order_id, "while-blocked")
        time.sleep(0.3)
        assert len(receiver.requests) == sent
        stats = httpx2.get(f"{sandbox.base_url}/__sandbox/stats", headers=sandbox.headers()).json()
    [domain] = blocked
    assert domain["destination"] == receiver.url.removesuffix("/webhooks")
    assert 170 <= domain["time_left"] <= 180
    assert domain["reasons"][0]["failure_description"] == "HTTP 503"
    assert domain["reasons"][0]["count"] >= 100
    [counters] = stats["webhooks"]["by_hook"].values()
    assert counters["last_error"] == "domain blocklisted"
    assert counters["attempts"] == sent


@pytest.mark.parametrize("destination", ["http://localhost:9/x", "https://[::1]:8443/x"])
def test_loopback_destinations_are_accepted(sandbox: RunningSandbox, destination: str) -> None:
    with _client(sandbox) as client:
        created = client.post(
            "/hooks", json={"scope": "store/order/created", "destination": destination}
        )
        assert created.status_code == 200
        assert_response_conforms(SPEC, "POST", "/hooks", created)
        client.delete(f"/hooks/{created.json()['data']['id']}").raise_for_status()
