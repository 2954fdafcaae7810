"""`b2bsync sync` killed with SIGKILL at random moments and restarted, over and over, while
shoppers keep ordering on a flaky sandbox: in the end every deliverable order is in the `sql`
destination exactly once, in the right table, at its latest version, and no version was ever
delivered twice."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx2

from b2bsync.sandbox.config import DelayRange, FaultProfile
from tests.conftest import quiet_config
from tests.integration.sync_support import truth
from tests.sandbox_server import RunningSandbox, run_sandbox

B2BSYNC = str(Path(sys.executable).with_name("b2bsync"))
KILLS = 20
SEED = 20261124


def _environment(sandbox: RunningSandbox, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BIGCOMMERCE_STORE_HASH": sandbox.config.store_hash,
        "BIGCOMMERCE_ACCESS_TOKEN": sandbox.config.token,
        "BIGCOMMERCE_API_URL": sandbox.base_url,
        "B2B_API_URL": f"{sandbox.base_url}/b2b",
        "B2BSYNC_DATABASE_URL": f"sqlite:///{workdir}/ledger.db",
        "B2BSYNC_POLL_INTERVAL_S": "0.2",
        # A batch claimed by a killed process is free again after this long.
        "B2BSYNC_DELIVERY_LEASE_S": "1",
        "B2BSYNC_DESTINATIONS": json.dumps(
            [
                {"type": "sql", "name": "erp", "url": f"sqlite:///{workdir}/erp.db"},
                {"type": "jsonl", "name": "audit", "path": str(workdir / "audit.jsonl")},
            ]
        ),
    }


def _wait_for_line(process: subprocess.Popen[bytes], marker: bytes, timeout_s: float) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
            if marker in seen:
                return
    raise AssertionError(f"{marker!r} not printed in {timeout_s} s: {seen!r}")


def _sync_once(env: dict[str, str], workdir: Path) -> dict[str, Any]:
    done = subprocess.run(
        [B2BSYNC, "sync", "--once", "--json"],
        env=env,
        cwd=workdir,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


QUERIES = {
    "b2bsync_orders": "SELECT order_id, version, order_type FROM b2bsync_orders",
    "b2bsync_payments": "SELECT order_id, version, 'payment' FROM b2bsync_payments",
}


def _rows(database: Path, table: str) -> list[tuple[int, int, str]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(QUERIES[table]).fetchall()


def test_sigkill_at_random_points_never_delivers_twice(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    config = quiet_config(
        orders=150,
        faults=FaultProfile.FLAKY,
        metafield_delay=DelayRange(0.0, 1.0),
        b2b_record_delay=DelayRange(0.0, 1.0),
    )
    with run_sandbox(config) as sandbox:
        env = _environment(sandbox, tmp_path)
        httpx2.post(
            f"{sandbox.base_url}/__sandbox/simulate",
            headers=sandbox.headers(),
            json={"rate": 8, "duration": 600, "invoice_share": 0.3},
        ).raise_for_status()
        for _ in range(KILLS):
            process = subprocess.Popen(
                [B2BSYNC, "sync"],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            try:
                _wait_for_line(process, b"Syncing store", timeout_s=30)
                time.sleep(rng.uniform(0.0, 1.5))
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
            assert process.returncode == -signal.SIGKILL
        httpx2.delete(
            f"{sandbox.base_url}/__sandbox/simulate", headers=sandbox.headers()
        ).raise_for_status()
        time.sleep(1.5)  # the last orders' signals and the killed processes' leases

        for _ in range(6):
            report = _sync_once(env, tmp_path)
            if report["pending"] == 0 and report["outbox_depth"] == 0:
                break
            time.sleep(1.0)
        assert report["pending"] == 0, report
        assert report["outbox_depth"] == 0, report
        assert report["dead_letters"] == 0, report
        ground = truth(sandbox)

    ledger = subprocess.run(
        [B2BSYNC, "orders", "list", "--json", "--limit=0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        check=True,
        timeout=60,
    )
    versions = {row["order_id"]: row["version"] for row in json.loads(ledger.stdout)}
    assert set(versions) == set(ground)

    deliverable = {order_id for order_id, row in ground.items() if row["status_id"] != 0}
    online = _rows(tmp_path / "erp.db", "b2bsync_orders")
    payments = _rows(tmp_path / "erp.db", "b2bsync_payments")
    assert len(online) + len(payments) == len(deliverable)
    assert {order_id for order_id, _, _ in online} | {
        order_id for order_id, _, _ in payments
    } == deliverable
    for order_id, version, order_type in online:
        assert ground[order_id]["kind"] == "online order", order_id
        assert order_type == "online_order"
        assert version == versions[order_id], order_id
    for order_id, version, _ in payments:
        assert ground[order_id]["kind"] == "invoice payment", order_id
        assert version == versions[order_id], order_id
    assert any(ground[order_id]["kind"] == "invoice payment" for order_id, _, _ in payments)

    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    keys = Counter(line["idempotency_key"] for line in audit)
    assert max(keys.values()) == 1, keys.most_common(3)
    newest: dict[int, int] = {}
    for line in audit:
        newest[line["order_id"]] = max(newest.get(line["order_id"], 0), line["version"])
    assert newest == {order_id: versions[order_id] for order_id in deliverable}
    assert len(ground) > 150, "the simulator placed no order while the sync was being killed"
