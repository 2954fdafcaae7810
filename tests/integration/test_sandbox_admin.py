"""`/__sandbox/*` over loopback: stats, ground truth, simulation, faults, plan and reset."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from typer.testing import CliRunner

from b2bsync.cli import app
from b2bsync.sandbox.seed import build_world
from tests.conftest import quiet_config
from tests.sandbox_server import RunningSandbox, run_sandbox


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSandbox]:
    """A sandbox of its own: these tests reset and reconfigure it."""
    with run_sandbox(quiet_config(orders=40, companies=4)) as sandbox:
        yield sandbox


@pytest.fixture
def admin(running: RunningSandbox) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=f"{running.base_url}/__sandbox", headers=running.headers()) as c:
        yield c


@pytest.fixture
def v3(running: RunningSandbox) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=f"{running.store_url}/v3", headers=running.headers()) as c:
        yield c


def _wait_done(admin: httpx2.Client, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        progress: dict[str, Any] = admin.get("/simulate").json()
        if progress["state"] != "running":
            return progress
        assert time.monotonic() < deadline, progress
        time.sleep(0.1)


def test_admin_needs_the_token(running: RunningSandbox) -> None:
    response = httpx2.get(f"{running.base_url}/__sandbox/stats", headers={"X-Auth-Token": "nope"})
    assert response.status_code == 401


def test_stats_count_requests_by_operation(
    admin: httpx2.Client, v3: httpx2.Client, running: RunningSandbox
) -> None:
    assert admin.post("/reset", json={"stats_only": True}).status_code == 200
    order_id = min(running.world.stores[running.config.store_hash].orders)
    for _ in range(3):
        assert v3.get("/hooks").status_code == 200
    assert v3.get(f"/orders/{order_id}/metafields").status_code == 200
    assert v3.get("/orders/999999/metafields").status_code == 404
    stats = admin.get("/stats").json()
    assert stats["requests_total"] == 5
    assert stats["by_operation"]["GET v3 /hooks"] == 3
    assert stats["by_operation"]["GET v3 /orders/{order_id}/metafields"] == 2
    assert stats["by_status"] == {"200": 4, "404": 1}
    assert stats["throttled"] == 0
    assert stats["faults"] == 0
    assert {"events", "attempts", "delivered", "by_hook"} <= set(stats["webhooks"])


def test_ground_truth_lists_every_order(admin: httpx2.Client, running: RunningSandbox) -> None:
    truth = admin.get("/orders").json()
    store = running.world.stores[running.config.store_hash]
    assert isinstance(truth, list)
    assert len(truth) == len(store.orders)
    assert [row["id"] for row in truth] == sorted(store.orders)
    kinds = {row["kind"] for row in truth}
    assert kinds == {"online order", "invoice payment"}
    for row in truth:
        assert set(row) >= {"id", "kind", "company_id", "invoice_ids", "status_id", "date_modified"}
        assert "is_deleted" in row
        if row["kind"] == "invoice payment":
            assert row["invoice_ids"]
            assert row["company_id"] is not None


def test_simulation_produces_orders_of_both_kinds(admin: httpx2.Client) -> None:
    before = {row["id"] for row in admin.get("/orders").json()}
    started = admin.post(
        "/simulate", json={"rate": 40, "duration": 1.5, "invoice_share": 0.5, "seed": 11}
    )
    assert started.status_code == 201, started.text
    assert started.json()["state"] == "running"
    assert started.json()["id"].startswith("sim_")
    progress = _wait_done(admin)
    assert progress["state"] == "done", progress
    assert progress["events_done"] == progress["events_planned"] == 60
    counts = progress["counts"]
    assert counts["online_orders"] > 0
    assert counts["invoice_payments"] > 0
    assert sum(counts.values()) == 60
    new = [row for row in admin.get("/orders").json() if row["id"] not in before]
    assert {row["kind"] for row in new} == {"online order", "invoice payment"}
    assert len(new) >= counts["online_orders"] + counts["invoice_payments"]


def test_simulation_can_be_stopped_and_is_validated(admin: httpx2.Client) -> None:
    assert admin.post("/simulate", json={"rate": 0}).status_code == 422
    assert admin.post("/simulate", json={"duration": -1}).status_code == 422
    assert admin.post("/simulate", json={"invoice_share": 2}).status_code == 422
    assert admin.post("/simulate", content=b"[]").status_code == 400
    started = admin.post("/simulate", json={"rate": 2, "duration": 60})
    assert started.status_code == 201
    stopped = admin.delete("/simulate")
    assert stopped.json()["state"] == "stopped"
    assert stopped.json()["id"] == started.json()["id"]
    assert admin.get("/simulate").json()["state"] == "stopped"


def test_faults_switch(admin: httpx2.Client, v3: httpx2.Client) -> None:
    storm = admin.post("/faults", json={"profile": "storm"})
    assert storm.json() == {
        "profile": "storm",
        "rates": {"server_error": 0.15, "slow": 0.10, "drop": 0.05, "bare_429": 0.08},
    }
    assert admin.post("/faults", json={"server_error": 1.0}).status_code == 200
    failing = v3.get("/hooks")
    assert failing.status_code in (500, 502, 503)
    assert failing.json()["status"] == failing.status_code
    assert "x-rate-limit-requests-left" not in failing.headers
    assert admin.post("/faults", json={"profile": "none"}).status_code == 200
    assert v3.get("/hooks").status_code == 200
    assert admin.post("/faults", json={"profile": "hurricane"}).status_code == 422
    assert admin.post("/faults", json={"drop": 0.7, "slow": 0.5}).status_code == 422


def test_plan_sets_the_store_quota(admin: httpx2.Client, v3: httpx2.Client) -> None:
    assert admin.post("/plan", json={"plan": "pro"}).json() == {"plan": "pro", "quota": 450}
    assert v3.get("/hooks").headers["x-rate-limit-requests-quota"] == "450"
    assert admin.post("/plan", json={"plan": "gold"}).status_code == 422
    assert admin.post("/plan", json={"plan": "unlimited"}).status_code == 200


def test_reset_reseeds_the_store(
    admin: httpx2.Client, v3: httpx2.Client, running: RunningSandbox
) -> None:
    order_id = min(running.world.stores[running.config.store_hash].orders)
    hook = v3.post(
        "/hooks", json={"scope": "store/order/*", "destination": "https://example.com/hook"}
    )
    assert hook.status_code == 200
    created = v3.post(
        f"/orders/{order_id}/metafields",
        json={"permission_set": "read", "namespace": "x", "key": "before-reset", "value": "1"},
    )
    assert created.status_code == 200
    admin.post("/simulate", json={"rate": 50, "duration": 0.2}).raise_for_status()
    assert _wait_done(admin)["state"] == "done"
    before = admin.get("/orders").json()

    reset = admin.post("/reset")
    assert reset.status_code == 200
    assert v3.get("/hooks").json()["data"] == []
    assert v3.get("/orders/metafields", params={"key": "before-reset"}).json()["data"] == []
    fresh = admin.get("/orders").json()
    expected = build_world(running.config).stores[running.config.store_hash].orders
    assert [(r["id"], r["kind"]) for r in fresh] == [
        (order.id, order.truth_kind) for order in sorted(expected.values(), key=lambda o: o.id)
    ]
    assert len(fresh) < len(before)
    stats = admin.get("/stats").json()
    assert stats["requests_total"] == 2
    assert stats["webhooks"]["by_hook"] == {}


def test_cli_simulate_runs_to_completion(running: RunningSandbox) -> None:
    result = CliRunner().invoke(
        app,
        [
            "sandbox",
            "simulate",
            "--url",
            running.base_url,
            "--rate",
            "600/min",
            "--duration",
            "1s",
            "--invoice-share",
            "0.5",
            "--token",
            running.config.token,
            "--seed",
            "5",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("Simulation sim_")
    assert "10 events/s for 1 s" in lines[0]
    assert " done: 10/10 events: " in lines[-1]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--rate", "fast", "--rate 'fast': expected a positive rate such as 5/s or 300/min."),
        ("--duration", "-3s", "--duration '-3s': expected a positive duration such as 60s or 2m."),
    ],
)
def test_cli_simulate_rejects_bad_syntax(option: str, value: str, message: str) -> None:
    args = ["sandbox", "simulate", "--url", "http://127.0.0.1:9", "--token", "t", option, value]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: {message}"


def test_cli_simulate_reports_an_unreachable_sandbox() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    result = CliRunner().invoke(app, ["sandbox", "simulate", "--url", url, "--token", "t"])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: cannot reach the sandbox at {url} (ConnectError)."
