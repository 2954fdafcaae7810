"""`benchmarks/destinations.py` with a few batches, so the broker throughput benchmark cannot rot:
every destination delivers everything and the ratios are to `jsonl` of the same run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "destinations.py"

pytestmark = pytest.mark.slow


def test_the_destinations_benchmark_measures_each_destination_against_jsonl() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--deliveries=250", "--batch=100", "--runs=2", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=SCRIPT.parent,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["deliveries"] == 250
    assert set(result["deliveries_per_s"]) == {"jsonl", "redis", "amqp"}
    assert all(rate["median"] > 0 for rate in result["deliveries_per_s"].values())
    assert result["ratio_to_jsonl"]["jsonl"]["runs"] == [1.0, 1.0]
