"""Seeded worlds, the `--state` file, and `b2bsync sandbox serve` as a real process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest

from b2bsync.sandbox.actions import run_due
from b2bsync.sandbox.app import create_app
from b2bsync.sandbox.config import DelayRange, SandboxConfig
from b2bsync.sandbox.orders import ORDER_STATUSES, total_inc_tax, update_order
from b2bsync.sandbox.persistence import (
    ChangeTracker,
    StateFileError,
    autosave,
    encode_store,
    load_world,
    save_world,
)
from b2bsync.sandbox.render_v2 import render_order
from b2bsync.sandbox.seed import build_world
from b2bsync.sandbox.world import World
from tests.conftest import quiet_config

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
B2BSYNC = str(Path(sys.executable).with_name("b2bsync"))


def rendered(world: World) -> list[dict[str, object]]:
    state = world.stores[world.config.store_hash]
    return [render_order(state, order, "http://sandbox/v2") for order in state.orders.values()]


@pytest.fixture(scope="module")
def default_world() -> World:
    """A store seeded with the default size (500 orders, 20 companies)."""
    return build_world(SandboxConfig(seed=42, store_hash="defaultstore"), now=NOW)


# --- seed -----------------------------------------------------------------------------------


def test_same_seed_same_world() -> None:
    config = quiet_config(orders=120)
    first, second = build_world(config, now=NOW), build_world(config, now=NOW)
    assert rendered(first) == rendered(second)
    assert encode_store(first.stores["teststore1"]) == encode_store(second.stores["teststore1"])
    other = build_world(quiet_config(orders=120, seed=8), now=NOW)
    assert rendered(other) != rendered(first)


def test_each_store_is_seeded_differently() -> None:
    config = quiet_config(orders=40, extra_store_hashes=("second",))
    world = build_world(config, now=NOW)
    assert set(world.stores) == {"teststore1", "second"}
    first, second = world.stores["teststore1"], world.stores["second"]
    assert len(first.orders) == len(second.orders) == 40
    assert [o.cart_id for o in first.orders.values()] != [o.cart_id for o in second.orders.values()]


def test_history_has_every_status_within_ninety_days(default_world: World) -> None:
    state = default_world.stores["defaultstore"]
    orders = list(state.orders.values())
    assert len(orders) == 500
    statuses = Counter(order.status_id for order in orders)
    assert set(statuses) == set(ORDER_STATUSES)
    assert statuses[11] + statuses[2] + statuses[10] > len(orders) / 2
    assert all((NOW - order.date_created).days <= 90 for order in orders)
    assert all(order.date_modified <= NOW for order in orders)
    shipped = [o for o in orders if o.status_id == 2 and o.shipping_addresses]
    assert shipped
    assert all(o.date_shipped is not None and o.shipments for o in shipped)
    partially = [o for o in orders if o.status_id == 3]
    assert all(sum(p.quantity_shipped for p in o.products) > 0 for o in partially)
    refunded = [o for o in orders if o.status_id == 4]
    assert refunded
    assert all(o.refunded_amount == total_inc_tax(o) > 0 for o in refunded)
    assert all(o.payment_status == "refunded" for o in refunded)
    assert state.order_status_labels[11] == "Ready to pick"
    assert not state.events


def test_invoice_payment_share_and_their_records(default_world: World) -> None:
    state = default_world.stores["defaultstore"]
    orders = list(state.orders.values())
    payments = [o for o in orders if o.truth_kind == "invoice payment"]
    share = len(payments) / len(orders)
    assert 0.18 <= share <= 0.30, share
    for order in payments:
        assert [p.name for p in order.products] == ["Invoice Payment"]
        assert order.products[0].type == "digital"
        assert order.status_id == 11
        assert order.truth_invoice_ids
        record = state.b2b_orders[order.id]
        assert record.is_invoice_order
        assert record.invoice_id == order.truth_invoice_ids[0]
    invoice_statuses = Counter(invoice.status for invoice in state.invoices.values())
    assert invoice_statuses[1] > 0  # partially paid
    assert invoice_statuses[2] > 0  # paid
    assert len(state.payments) == len(payments)


def test_company_orders_have_b2b_records_with_po_numbers(default_world: World) -> None:
    state = default_world.stores["defaultstore"]
    company_orders = [
        o
        for o in state.orders.values()
        if o.customer_id in state.customers and state.customers[o.customer_id].company_id
    ]
    assert len(company_orders) > 150
    assert all(o.id in state.b2b_orders for o in company_orders)
    online = [state.b2b_orders[o.id] for o in company_orders if o.truth_kind == "online order"]
    with_po = [r for r in online if r.po_number.startswith("PO-")]
    assert len(with_po) > len(online) * 0.7
    names = {field.field_name for r in with_po for field in r.extra_fields}
    assert names == {"Cost Center", "Delivery Window"}
    retail = [o for o in state.orders.values() if o.id not in state.b2b_orders]
    assert retail
    assert all(o.truth_kind == "online order" for o in retail)


def test_every_order_has_its_order_type_metafield(default_world: World) -> None:
    state = default_world.stores["defaultstore"]
    kinds = {
        mf.resource_id: mf.value
        for mf in state.metafields.values()
        if mf.key == "orderType" and mf.namespace == "b2b_edition"
    }
    assert kinds == {order.id: order.truth_kind for order in state.orders.values()}
    assert not state.scheduled


# --- state file -----------------------------------------------------------------------------


def test_state_file_round_trips_every_entity(tmp_path: Path) -> None:
    world = build_world(
        quiet_config(orders=150, metafield_delay=DelayRange(3600.0, 3600.0)), now=NOW
    )
    state = world.stores["teststore1"]
    assert state.scheduled, "the 1-hour metafield delay leaves work pending"
    path = tmp_path / "world.json"
    save_world(world, path)
    document = json.loads(path.read_text())
    assert document["format_version"] == 1
    assert path.stat().st_mode & 0o777 == 0o644
    assert not list(tmp_path.glob(".world.json.*")), "no temporary file is left behind"
    assert document["store_hashes"] == ["teststore1"]

    loaded = load_world(path, quiet_config(store_hash="ignored", token="other"))
    assert loaded.config.store_hash == "teststore1"
    assert loaded.config.token == world.config.token
    again = loaded.stores["teststore1"]
    assert encode_store(again) == encode_store(state)
    assert again.orders == state.orders
    assert again.invoices == state.invoices
    assert again.payments == state.payments
    assert again.rng.random() == state.rng.random()
    assert again.next_id("order") == state.next_id("order")
    due = max(action.due_at for action in state.scheduled)
    assert run_due(again, due) == run_due(state, due) > 0
    assert again.metafields == state.metafields


def test_state_file_keeps_a_chosen_token(tmp_path: Path) -> None:
    world = build_world(quiet_config(orders=5), now=NOW)
    save_world(world, tmp_path / "w.json")
    loaded = load_world(tmp_path / "w.json", quiet_config(token="mine"), keep_token=True)
    assert loaded.config.token == "mine"


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", json.dumps({"format_version": 99, "store_hashes": ["x"], "stores": {}})],
)
def test_unreadable_state_files_are_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(StateFileError):
        load_world(path, quiet_config())


def test_mutations_survive_a_save(tmp_path: Path) -> None:
    world = build_world(quiet_config(orders=20), now=NOW)
    state = world.stores["teststore1"]
    order = next(iter(state.orders.values()))
    update_order(state, order, {"staff_notes": "kept", "discount_amount": Decimal("1.5")}, NOW)
    save_world(world, tmp_path / "w.json")
    again = load_world(tmp_path / "w.json", quiet_config()).stores["teststore1"]
    assert again.orders[order.id].staff_notes == "kept"
    assert again.orders[order.id].discount_amount == Decimal("1.5")
    assert again.orders[order.id].date_modified == NOW


async def test_autosave_writes_only_when_something_changed(tmp_path: Path) -> None:
    world = build_world(quiet_config(orders=10), now=NOW)
    state = world.stores["teststore1"]
    path = tmp_path / "auto.json"
    tracker = ChangeTracker(create_app(world), world)
    saver = asyncio.create_task(autosave(world, path, tracker, interval_s=0.02))
    try:
        await asyncio.sleep(0.1)
        assert not path.exists()
        order = next(iter(state.orders.values()))
        update_order(state, order, {"staff_notes": "autosaved"}, NOW)
        for _ in range(100):
            await asyncio.sleep(0.02)
            if path.exists():
                break
        saved = load_world(path, quiet_config()).stores["teststore1"]
        assert saved.orders[order.id].staff_notes == "autosaved"
    finally:
        saver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await saver


# --- the serve command ----------------------------------------------------------------------


@dataclass
class Served:
    process: subprocess.Popen[str]
    lines: dict[str, str]
    printed: list[str]

    @property
    def store_api(self) -> str:
        return self.lines["Store API"]

    @property
    def token(self) -> str:
        return self.lines["Access token"]


def _reader(stream: object, sink: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink.put(line)


@contextmanager
def serve(*args: str) -> Iterator[Served]:
    """`b2bsync sandbox serve --port 0 ...` until its URLs are printed; stopped with SIGTERM."""
    process = subprocess.Popen(
        [B2BSYNC, "sandbox", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True).start()
    printed: dict[str, str] = {}
    raw: list[str] = []
    deadline = time.monotonic() + 30
    try:
        while "B2B API" not in printed:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or process.poll() is not None:
                raise AssertionError(f"serve did not start: {process.stderr.read()}")  # type: ignore[union-attr]
            try:
                line = lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            raw.append(line.strip())
            if ":" in line:
                key, _, value = line.partition(":")
                printed.setdefault(key.strip(), value.strip())
        yield Served(process, printed, raw)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def test_serve_prints_urls_and_serves_several_stores() -> None:
    with serve("--orders", "30", "--companies", "3", "--stores", "2", "--token", "tok") as served:
        assert served.token == "tok"
        assert re.fullmatch(
            rf"http://127\.0\.0\.1:\d+/stores/{served.lines['Store hash']}", served.store_api
        )
        assert served.lines["B2B API"].endswith("/b2b/api/v3/io")
        headers = {"X-Auth-Token": "tok", "Accept": "application/json"}
        orders = httpx2.get(f"{served.store_api}/v2/orders", headers=headers)
        assert orders.status_code == 200
        assert len(orders.json()) == 30
        extra = served.lines["Extra store"]
        assert extra == f"{served.store_api}-2"
        assert httpx2.get(f"{extra}/v2/orders/count", headers=headers).json()["count"] == 30
    assert served.process.returncode == 0


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "sandbox.json"
    with serve("--orders", "25", "--companies", "2", "--state", str(state_file)) as first:
        headers = {"X-Auth-Token": first.token, "Accept": "application/json"}
        api = f"{first.store_api}/v2"
        created = httpx2.post(
            f"{api}/orders",
            headers=headers,
            json={
                "billing_address": {"first_name": "Ann", "zip": "78751", "email": "a@example.com"},
                "products": [{"name": "Mug", "quantity": 1, "price_inc_tax": 5, "price_ex_tax": 5}],
            },
        ).json()
        changed = httpx2.put(
            f"{api}/orders/{created['id'] - 1}", headers=headers, json={"staff_notes": "persisted"}
        )
        assert changed.status_code == 200
    assert first.process.returncode == 0
    assert state_file.exists()

    with serve("--state", str(state_file), "--seed", "999") as second:
        assert second.token == first.token
        assert second.lines["Store hash"] == first.lines["Store hash"]
        headers = {"X-Auth-Token": second.token, "Accept": "application/json"}
        api = f"{second.store_api}/v2"
        again = httpx2.get(f"{api}/orders/{created['id']}", headers=headers).json()
        assert again["billing_address"]["first_name"] == "Ann"
        assert again["date_created"] == created["date_created"]
        other = httpx2.get(f"{api}/orders/{created['id'] - 1}", headers=headers).json()
        assert other["staff_notes"] == "persisted"
        assert httpx2.get(f"{api}/orders/count", headers=headers).json()["count"] == 26


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--plan", "gold"], "--plan"),
        (["--faults", "sometimes"], "--faults"),
        (["--port", "70000"], "--port"),
        (["--orders", "many"], "--orders"),
        (["--store-hash", "a/b"], "--store-hash"),
    ],
)
def test_bad_options_fail_without_traceback(args: list[str], complaint: str) -> None:
    result = subprocess.run(
        [B2BSYNC, "sandbox", "serve", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert complaint in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_serve_prints_export_lines_b2bsync_takes_as_they_are() -> None:
    with serve("--orders", "5", "--companies", "1") as served:
        exports = dict(
            assignment.split("=", 1)
            for line in served.printed
            if line.startswith("export ")
            for assignment in line.removeprefix("export ").split()
        )
    base = served.store_api.rsplit("/stores/", 1)[0]
    assert exports == {
        "BIGCOMMERCE_STORE_HASH": served.lines["Store hash"],
        "BIGCOMMERCE_ACCESS_TOKEN": served.token,
        "BIGCOMMERCE_API_URL": base,
        "B2B_API_URL": f"{base}/b2b",
    }


def test_a_busy_port_is_named_with_a_way_out() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [B2BSYNC, "sandbox", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port 0" in result.stderr
    assert "Errno" not in result.stderr + result.stdout


def test_bad_state_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{broken")
    result = subprocess.run(
        [B2BSYNC, "sandbox", "serve", "--port", "0", "--state", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot read state file")
    assert "Traceback" not in result.stderr
