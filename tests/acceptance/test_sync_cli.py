"""The sync commands as a user runs them against a loopback sandbox: `sync --once`, `orders list`
and `show`, `status`, `replay`, `backfill` (interrupted with Ctrl-C, then resumed), and the
one-line errors of bad settings."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from b2bsync.cli import app
from b2bsync.sandbox.config import FaultProfile
from tests.conftest import quiet_config
from tests.integration.sync_support import truth
from tests.sandbox_server import RunningSandbox, run_sandbox

B2BSYNC = str(Path(sys.executable).with_name("b2bsync"))
KIND = {"online order": "online_order", "invoice payment": "invoice_payment"}

runner = CliRunner()


@pytest.fixture(scope="module")
def flaky_sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(quiet_config(orders=120, faults=FaultProfile.FLAKY)) as running:
        yield running


def environment(sandbox: RunningSandbox, workdir: Path) -> dict[str, str]:
    """The variables pointing b2bsync at the sandbox, a ledger and a jsonl file in `workdir`."""
    return {
        "BIGCOMMERCE_STORE_HASH": sandbox.config.store_hash,
        "BIGCOMMERCE_ACCESS_TOKEN": sandbox.config.token,
        "BIGCOMMERCE_API_URL": sandbox.base_url,
        "B2B_API_URL": f"{sandbox.base_url}/b2b",
        "B2BSYNC_DATABASE_URL": f"sqlite:///{workdir}/ledger.db",
        "B2BSYNC_DESTINATIONS": json.dumps(
            [{"type": "jsonl", "name": "erp", "path": str(workdir / "erp.jsonl")}]
        ),
    }


@pytest.fixture
def env(
    flaky_sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    for name in ("B2BSYNC_CONFIG", "STORE_HASH", "ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    values = environment(flaky_sandbox, tmp_path)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def run(*args: str) -> Any:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def test_sync_once_fills_the_ledger_and_delivers_each_order_once(
    flaky_sandbox: RunningSandbox, env: dict[str, str], tmp_path: Path
) -> None:
    report = run("sync", "--once", "--json")
    ground = truth(flaky_sandbox)
    assert report["seen"] >= len(ground)
    assert report["orders"] == len(ground)
    assert report["api_calls"] > 0
    assert report["pending"] == 0
    assert report["dead_letters"] == 0

    listed = run("orders", "list", "--json", "--limit", "0")
    assert {row["order_id"] for row in listed} == set(ground)
    for row in listed:
        assert set(row) >= {"store", "order_id", "order_type", "state", "status_id"}
        assert set(row) >= {"company_id", "po_number", "invoice_ids", "version"}
        expected = ground[row["order_id"]]
        assert row["order_type"] == KIND[expected["kind"]], row
        assert row["status_id"] == expected["status_id"]
        assert row["state"] == ("skipped" if expected["status_id"] == 0 else "delivered")
    payments = run("orders", "list", "--json", "--limit", "0", "--type", "invoice_payment")
    assert payments
    assert {row["order_id"] for row in payments} == {
        order_id for order_id, row in ground.items() if row["kind"] == "invoice payment"
    }

    lines = (tmp_path / "erp.jsonl").read_text().splitlines()
    keys = [json.loads(line)["idempotency_key"] for line in lines]
    assert len(keys) == len(set(keys))
    assert {json.loads(line)["order_id"] for line in lines} == {
        order_id for order_id, row in ground.items() if row["status_id"] != 0
    }

    again = run("sync", "--once", "--json")
    assert again["new_versions"] == 0
    assert again["delivered"] == 0
    assert len((tmp_path / "erp.jsonl").read_text().splitlines()) == len(lines)

    chosen = payments[0]["order_id"]
    shown = run("orders", "show", str(chosen), "--json")
    assert shown["order_type"] == "invoice_payment"
    assert shown["record"]["order_id"] == chosen
    assert shown["versions"][0]["version"] == shown["version"] >= 1
    assert [d["state"] for d in shown["deliveries"]] == ["delivered"]

    status = run("status", "--json")
    assert status["orders"] == len(ground)
    assert status["outbox_depth"] == 0
    assert status["dead_letters"] == 0
    assert status["lag_s"] is not None
    assert status["lag_s"] < 600
    assert {mark["stream"] for mark in status["watermarks"]} >= {"v2_orders", "metafields"}
    assert status["webhooks"]["installed"] is False
    budget = status["rate_budget"]
    assert budget["quota"] > 0, budget
    assert budget["left"] is not None, budget

    replayed = run("replay", str(chosen), "--json")
    assert replayed == {
        "store": env["BIGCOMMERCE_STORE_HASH"],
        "queued": 1,
        "delivered": 1,
        "retried": 0,
        "dead": 0,
    }
    # The jsonl destination books a key once: the replay changed nothing downstream.
    assert len((tmp_path / "erp.jsonl").read_text().splitlines()) == len(lines)
    text = run("orders", "show", str(chosen))
    assert "replayed" in text
    # --skip only gives up on dead letters; a delivered row stays delivered.
    skipped = run("replay", "--skip", str(chosen), "--json")
    assert skipped == {"store": env["BIGCOMMERCE_STORE_HASH"], "skipped": 0}
    assert run("orders", "show", str(chosen), "--json")["state"] == "delivered"


def test_a_bad_setting_is_one_line_and_exit_code_2(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("B2BSYNC_PAGE_SIZE", "900")
    result = runner.invoke(app, ["sync", "--once"])
    assert result.exit_code == 2
    assert "B2BSYNC_PAGE_SIZE" in result.output
    assert "Traceback" not in result.output
    monkeypatch.delenv("B2BSYNC_PAGE_SIZE")

    (tmp_path / "b2bsync.toml").write_text('[sync]\npoll_interval_s = "often"\n')
    result = runner.invoke(app, ["sync", "--once"])
    assert result.exit_code == 2
    assert "sync.poll_interval_s" in result.output

    monkeypatch.delenv("BIGCOMMERCE_ACCESS_TOKEN")
    (tmp_path / "b2bsync.toml").write_text("")
    result = runner.invoke(app, ["sync", "--once"])
    assert result.exit_code == 2
    assert "BIGCOMMERCE_ACCESS_TOKEN is not set" in result.output


def test_backfill_interrupted_with_ctrl_c_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    config = quiet_config(orders=400, latency_ms=20, seed=11)
    with run_sandbox(config) as sandbox:
        env = {**os.environ, **environment(sandbox, tmp_path)}
        env["B2BSYNC_PAGE_SIZE"] = "20"
        command = [B2BSYNC, "backfill", "--since", "2020-01-01", "--json"]
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        ledger = tmp_path / "ledger.db"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _committed_orders(ledger):
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 130, stderr.decode()
        assert b"resume" in stderr
        committed = _committed_orders(ledger)
        ground = truth(sandbox)
        assert 0 < committed < len(ground)

        resumed = subprocess.run(
            command, env=env, cwd=tmp_path, capture_output=True, timeout=120, check=True
        )
        report = json.loads(resumed.stdout)
        assert report["resumed_from"] is not None
        assert report["seen"] < len(ground)
        assert report["orders"] == len(ground)
        assert report["pending"] == 0


def _committed_orders(ledger: Path) -> int:
    import sqlite3

    if not ledger.exists():
        return 0
    try:
        with sqlite3.connect(ledger, timeout=1) as connection:
            return int(connection.execute("SELECT count(*) FROM orders").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_continuous_sync_stops_cleanly_on_ctrl_c(
    flaky_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    env = {**os.environ, **environment(flaky_sandbox, tmp_path), "B2BSYNC_POLL_INTERVAL_S": "0.2"}
    process = subprocess.Popen(
        [B2BSYNC, "sync"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    first = process.stdout.readline().decode()
    assert "Syncing store" in first
    assert "erp (jsonl)" in first
    deadline = time.monotonic() + 30
    while _committed_orders(tmp_path / "ledger.db") < len(truth(flaky_sandbox)):
        assert time.monotonic() < deadline, "the continuous sync did not catch up"
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert b"sync.round" in stderr


@pytest.mark.postgres
def test_a_postgres_ledger_is_migrated_deliberately_then_synced(
    flaky_sandbox: RunningSandbox,
    env: dict[str, str],
    empty_postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("B2BSYNC_DATABASE_URL", empty_postgres_url)
    refused = runner.invoke(app, ["sync", "--once"])
    assert refused.exit_code == 1
    assert "run `b2bsync db upgrade`" in refused.output

    run("db", "upgrade")
    report = run("sync", "--once", "--json")
    ground = truth(flaky_sandbox)
    assert report["orders"] == len(ground)
    assert report["pending"] == 0
    listed = run("orders", "list", "--json", "--limit", "0", "--type", "invoice_payment")
    assert {row["order_id"] for row in listed} == {
        order_id for order_id, row in ground.items() if row["kind"] == "invoice payment"
    }


def test_without_destinations_deliveries_go_to_the_default_jsonl_file(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("B2BSYNC_DESTINATIONS")
    text = run("sync", "--once")
    assert "no destination is configured" in text
    assert ".b2bsync/deliveries.jsonl" in text
    delivered = (tmp_path / ".b2bsync" / "deliveries.jsonl").read_text().splitlines()
    assert delivered
    assert all(json.loads(line)["store"] == env["BIGCOMMERCE_STORE_HASH"] for line in delivered)
