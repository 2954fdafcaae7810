"""`b2bsync demo` as a new user meets it: a running store, commands that work, a clean stop."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from tests.sandbox_server import free_port

B2BSYNC = str(Path(sys.executable).with_name("b2bsync"))


def _read_until(process: subprocess.Popen[str], marker: str, timeout_s: float) -> str:
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"{marker!r} not printed in {timeout_s} s; got:\n{''.join(seen)}")


def test_demo_serves_a_moving_store_that_the_printed_commands_reach(tmp_path: Path) -> None:
    port, dashboard_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            B2BSYNC,
            "demo",
            f"--port={port}",
            f"--dashboard-port={dashboard_port}",
            "--orders=40",
            "--rate=20",
            "--interval=0.5",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = _read_until(process, "Press Ctrl-C to stop.", timeout_s=60)
        exports = dict(re.findall(r"(\w+)=(\S+)", " ".join(re.findall(r"export (.*)", output))))
        assert exports["BIGCOMMERCE_API_URL"] == f"http://127.0.0.1:{port}"
        env = {**os.environ, **exports}

        listed = subprocess.run(
            [B2BSYNC, "api", "get", "/v2/orders", "-p", "limit=5"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        orders = json.loads(listed.stdout)
        assert len(orders) == 5
        assert all("date_modified" in order for order in orders)

        truth_url = f"http://127.0.0.1:{port}/__sandbox/orders"
        headers = {"X-Auth-Token": exports["BIGCOMMERCE_ACCESS_TOKEN"]}
        before = len(httpx2.get(truth_url, headers=headers).json())
        time.sleep(1.5)
        after = httpx2.get(truth_url, headers=headers).json()
        assert len(after) > before, "the simulated shoppers placed no order"
        assert {order["kind"] for order in after} == {"online order", "invoice payment"}

        # The demo syncs continuously: its ledger fills with both types, matching the truth.
        assert exports["B2BSYNC_DATABASE_URL"].startswith("sqlite:///")
        deadline = time.monotonic() + 45
        while True:
            ledger = json.loads(
                subprocess.run(
                    [B2BSYNC, "orders", "list", "--json", "--limit=0"],
                    env=env,
                    cwd=tmp_path,
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=True,
                ).stdout
            )
            types = {row["order_type"] for row in ledger}
            if {"online_order", "invoice_payment"} <= types and len(ledger) >= 40:
                break
            assert time.monotonic() < deadline, f"the ledger has {len(ledger)} orders: {types}"
            time.sleep(1)
        latest = httpx2.get(truth_url, headers=headers).json()
        kinds = {row["id"]: row["kind"].replace(" ", "_") for row in latest}
        classified = [row for row in ledger if row["order_type"] != "unclassified"]
        assert all(kinds[row["order_id"]] == row["order_type"] for row in classified)

        # The dashboard the demo printed shows the same ledger.
        assert f"Dashboard: http://127.0.0.1:{dashboard_port}" in output
        overview = httpx2.get(f"http://127.0.0.1:{dashboard_port}/api/overview").json()
        assert overview["store"] == "demo"
        assert overview["orders"] >= len(ledger)
        # Webhooks drive the demo's sync: the store calls the dashboard's own intake.
        (hooks,) = overview["webhooks"]
        assert hooks["installed"] is True
        assert overview["last_webhook_at"] is not None
        secret_file = tmp_path / ".b2bsync/demo/webhook-secret.json"
        assert secret_file.stat().st_mode & 0o777 == 0o600
        page = httpx2.get(f"http://127.0.0.1:{dashboard_port}/orders?type=invoice_payment")
        assert page.status_code == 200
        assert "invoice payment" in page.text
        # Settings says what the demo runs (no token), the ledger URL wrapping at its slashes.
        shown = httpx2.get(f"http://127.0.0.1:{dashboard_port}/settings").text
        assert "b2bsync demo" in shown
        assert "webhooks to http://127.0.0.1" in " ".join(shown.replace("<wbr>", "").split())
        assert "erp.db" in shown
        assert exports["BIGCOMMERCE_ACCESS_TOKEN"] not in shown
        assert "sqlite:/<wbr>/<wbr>/<wbr>" in shown
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    assert (tmp_path / ".b2bsync/demo/deliveries.jsonl").stat().st_size > 0
    # Not a terminal: progress comes as plain lines, and the end says it stopped.
    assert process.stdout is not None
    rest = process.stdout.read()
    assert re.search(r"\d+ online orders, \d+ invoice payments, .* deliveries", rest), rest
    assert rest.rstrip().endswith("Stopped.")
