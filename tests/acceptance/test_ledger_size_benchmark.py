"""`benchmarks/ledger_size.py` with a tiny store, so the flat-with-size benchmark cannot rot: the
ledger is padded to each size, and every round versions and delivers exactly the changed
orders, whatever the padding."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "ledger_size.py"

pytestmark = pytest.mark.slow


def test_padded_rounds_version_and_deliver_just_the_changed_orders() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--orders=200",
            "--sizes",
            "200",
            "1000",
            "--changed=15",
            "--repeats=1",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=SCRIPT.parent,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["cold_sync"]["versions"] == 200
    small, large = result["rounds"]
    assert small["ledger_orders"] == 200
    assert large["ledger_orders"] >= 1000
    for entry in (small, large):
        assert entry["versions"] == entry["delivered"] == 15
        assert entry["statements"] > 0
    assert small["seconds_ratio"] == 1.0
