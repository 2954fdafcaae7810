"""`benchmarks/engine_inmemory.py` with a tiny store, so the engine-alone benchmark cannot rot:
every order read is decided, versioned once and delivered, and each phase reports its time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "engine_inmemory.py"

pytestmark = pytest.mark.slow


def test_the_engine_benchmark_decides_versions_and_delivers_every_order() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--orders=300", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=SCRIPT.parent,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    engine = result["engine"]
    assert result["orders"] == engine["orders"] == engine["versions"] == 300
    assert 0 < engine["delivered"] <= 300
    assert engine["scan_s"] > 0
    assert result["bare_read_s"] > 0
    assert set(result["decode"]) == {"per_record_s", "per_page_s"}
