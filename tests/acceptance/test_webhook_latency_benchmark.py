"""`benchmarks/webhook_latency.py` with a tiny run, so the script cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "webhook_latency.py"


def test_the_webhook_latency_benchmark_runs_and_reports_its_figures() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--orders-per-second=10",
            "--duration=2",
            "--history=50",
            "--plan=unlimited",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["orders"] >= 10
    assert result["delivered"] >= result["orders"] - result["not_delivered"] > 0
    assert 0 < result["p50_s"] <= result["p99_s"] <= result["max_s"] < 10
    # Callbacks arrived and drove batches; the only poll was the initial one.
    assert result["webhooks"]["accepted"] >= result["orders"]
    assert result["batches"] >= 1
    assert result["polls"] == 1
    assert 0 < result["calls_per_order"] < 1
