"""`benchmarks/backfill.py` with a tiny store and no latency, so the script cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "backfill.py"


def test_the_backfill_benchmark_runs_and_reports_its_figures() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--orders=200",
            "--latency-ms=0",
            "--plan=unlimited",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    backfill = result["backfill"]
    assert backfill["ledger_orders"] == result["store_orders"] > 150
    assert backfill["versions"] == backfill["ledger_orders"]
    assert backfill["pending"] == 0
    assert backfill["delivered"] > 0
    # One page per list (orders, orderType metafields, B2B records) reads a 200-order store.
    assert result["floor"]["floor"]["total"] == result["floor"]["pass_calls"]["total"] == 3
    # Fixed per-run calls (one per signal stream and scan) weigh on a tiny store; the page
    # sizes keep it far from one call per order.
    assert result["floor"]["floor"]["total"] <= backfill["calls"]["total"]
    assert 0 < result["calls_per_order"] < 0.1
    assert result["orders_per_s"] > 0
    assert backfill["cpu_s"] > 0
    assert backfill["peak_rss_mib"] > 0
