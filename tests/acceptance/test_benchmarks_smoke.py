"""`benchmarks/run.py` with tiny sizes, so the runner, the baselines and the report cannot rot.

Asserts what must hold at any size: b2bsync needs fewer calls per order than either baseline,
never fewer than the floor, the baselines make exactly the calls their design implies, and
every figure the report shows is in results.json.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

RUNNER = Path(__file__).parents[2] / "benchmarks" / "run.py"
ORDERS = 200
SAMPLE_REFERENCE = 20
SAMPLE_COMPLETE = 5


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [
            sys.executable,
            str(RUNNER),
            "--runs=1",
            f"--sizes={ORDERS}",
            f"--sample-reference={SAMPLE_REFERENCE}",
            f"--sample-complete={SAMPLE_COMPLETE}",
            f"--engine-orders={ORDERS}",
            f"--plan-orders={ORDERS}",
            "--plans=enterprise",
            "--duration=2",
            "--history=30",
            "--poll-interval=2",
            f"--output={output}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures: dict[str, Any] = json.loads((output / "results.json").read_text())
    figures["markdown"] = (output / "results.md").read_text()
    return figures


pytestmark = pytest.mark.slow


def test_b2bsync_needs_fewer_calls_than_both_baselines_and_no_fewer_than_the_floor(
    results: dict[str, Any],
) -> None:
    size = results["workloads"]["api"]["sizes"][0]
    ours, reference, complete = size["b2bsync"], size["reference"], size["complete"]
    assert ours["ledger_orders"] == ours["orders"] == size["floor"]["shape"]["orders"] == ORDERS
    assert ours["calls_per_order"] < reference["calls_per_order"] < complete["calls_per_order"]
    assert size["floor"]["floor"]["total"] <= ours["calls"]["total"]
    assert ours["calls_above_floor"] == ours["calls"]["total"] - size["floor"]["floor"]["total"]
    assert reference["calls_ratio_to_b2bsync"] > 1
    assert complete["calls_ratio_to_b2bsync"] > reference["calls_ratio_to_b2bsync"]


def test_the_floor_is_each_list_at_its_largest_page(results: dict[str, Any]) -> None:
    floor = results["workloads"]["api"]["sizes"][0]["floor"]
    shape = floor["shape"]
    assert floor["floor"]["v2_pages"] == math.ceil(shape["orders"] / 250)
    assert floor["floor"]["metafield_pages"] == math.ceil(shape["metafields"] / 250)
    assert floor["floor"]["b2b_pages"] == math.ceil(shape["b2b_records"] / 200)
    assert 0 < shape["b2b_records"] < shape["orders"]
    # Reading the lists really costs what the floor says (200 orders: no empty last page).
    assert floor["pass_calls"]["total"] == floor["floor"]["total"]


def test_the_baselines_make_the_calls_their_design_implies(results: dict[str, Any]) -> None:
    size = results["workloads"]["api"]["sizes"][0]
    whole = size["reference"]["whole_store_unthrottled"]
    # (a): one V2 page per 250 orders, then one metafield call per order.
    assert whole["orders"] == ORDERS
    assert whole["calls"] == {
        "total": 1 + ORDERS,
        "store_api": 1 + ORDERS,
        "b2b_api": 0,
        "throttled": 0,
    }
    # (b): the id list, then order, products, shipping addresses, metafields; one B2B call.
    complete = size["complete"]
    assert complete["orders"] == SAMPLE_COMPLETE
    assert complete["calls"]["store_api"] == 1 + 4 * SAMPLE_COMPLETE
    assert complete["calls"]["b2b_api"] == SAMPLE_COMPLETE
    assert complete["derived"]["orders"] == ORDERS
    assert complete["derived"]["b2b_api"] == ORDERS
    # Both found the same online orders and invoice payments in the first orders.
    assert sum(complete["found"]["kinds"].values()) == SAMPLE_COMPLETE


def test_the_engine_figures_are_there_for_each_database(results: dict[str, Any]) -> None:
    engine = results["workloads"]["engine"]
    backends = ["sqlite"]
    if os.environ.get("B2BSYNC_REQUIRE_POSTGRES") == "1" or "skipped" not in engine["postgresql"]:
        backends.append("postgresql")
    for backend in backends:
        figures = engine[backend]
        assert figures["ledger_orders"] == ORDERS
        for name in ("orders_per_s", "cpu_s_per_1000_orders", "peak_rss_mib", "seconds"):
            assert 0 < figures[name]["min"] <= figures[name]["median"] <= figures[name]["max"]


def test_steady_state_compares_webhooks_with_polling(results: dict[str, Any]) -> None:
    modes = results["workloads"]["steady"]["modes"]
    assert set(modes) == {"webhooks", "polling"}
    for figures in modes.values():
        assert figures["orders"]["median"] >= 5
        assert 0 < figures["p50_s"]["median"] <= figures["p99_s"]["median"]
    assert modes["webhooks"]["runs"][0]["webhooks"]["accepted"] > 0
    assert modes["polling"]["runs"][0]["webhooks"] == {}


def test_plan_limits_compare_with_the_rate_limit_bound(results: dict[str, Any]) -> None:
    plan = results["workloads"]["plans"]["plans"]["enterprise"]
    assert plan["seconds"]["median"] >= plan["rate_limit_bound_s"] >= 0
    derived = plan["derived_for_target"]
    assert derived["orders"] == 100_000
    assert derived["rate_limit_bound_s"] is not None
    assert derived["engine_bound_s"] > 0


def test_the_report_shows_every_workload_and_the_machine(results: dict[str, Any]) -> None:
    markdown = results["markdown"]
    assert f"{results['machine']['cores']} cores" in markdown
    assert "shared with other work" in markdown
    for heading in ("1. API efficiency", "2. Steady state", "3. Engine cost", "4. Backfill time"):
        assert f"## {heading}" in markdown
    assert "derived" in markdown
