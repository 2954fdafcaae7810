"""`make bench`: b2bsync against the usual scripts and against the physical limit.

Four workloads, each side by side in this one process against the same sandbox and data (the
sandbox re-seeds the same store before every run, so every run starts cold with fresh rate
windows and counters). Each writes its section of `benchmarks/results.json`; `results.md` is
rendered from the whole file, so workloads can be run one at a time (`--workload`).

1. `api`: cold backfill at the `standard` plan with 50 ms latency; b2bsync, baseline (a) (V2
   list + one metafield call per order) and baseline (b) (five calls per order), calls per order
   and wall time, against the floor of the data. Baseline wall times at plan limits are measured
   on a sample that fits (`--sample-reference`, `--sample-complete` orders) and derived for the
   full store from its calls and the rate limit (a lower bound; the formula is in the report).
2. `steady`: `--orders-per-second` for `--duration` seconds, webhooks on vs polling only.
3. `engine`: zero latency, no rate limit, `sql` delivery, SQLite and PostgreSQL: orders/s, CPU
   seconds per 1,000 orders, peak RSS of the backfill process.
4. `plans`: cold backfill on `standard`, `pro` and `enterprise` against the rate-limit bound.

    .venv/bin/python benchmarks/run.py [--workload api steady engine plans] [--runs 3]
        [--sizes 10000 100000] [--duration 600] [--engine-orders 100000] [--plan-orders 100000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from b2bsync.observability import configure_logging
from backfill import floor_pass, measured_backfill
from baselines import complete, reference
from harness import STORE, TOKEN, Sandbox, machine, sandbox, spread
from physics import RATE_LIMIT_FORMULA, rate_limit_seconds
from report import render
from webhook_latency import measure as measure_steady

HERE = Path(__file__).parent
API_PLAN = "standard"
API_LATENCY_MS = 50
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
SHARED_MACHINE_NOTE = (
    "The machine was shared with other work (two other sessions running test suites) while "
    "these figures were measured; wall times and CPU figures are noisier than on a quiet machine."
)


def _per_order(calls: int, orders: int) -> float:
    return round(calls / max(orders, 1), 4)


def _b2bsync_runs(
    running: Sandbox, runs: int, database_url: Callable[[], str | None] = lambda: None
) -> dict[str, Any]:
    """`runs` cold backfills; the per-run figures and their median/min-max."""
    results = []
    for _ in range(runs):
        url = database_url()
        results.append(measured_backfill(running, url, url))
    orders = results[0]["orders"]
    return {
        "orders": orders,
        "ledger_orders": results[0]["ledger_orders"],
        "calls": results[0]["calls"],
        "calls_per_run": [r["calls"]["total"] for r in results],
        "calls_per_order": _per_order(results[0]["calls"]["total"], orders),
        "seconds": spread([r["seconds"] for r in results]),
        "orders_per_s": spread([r["orders"] / r["seconds"] for r in results], 1),
        "cpu_s_per_1000_orders": spread([r["cpu_s"] / r["orders"] * 1000 for r in results]),
        "peak_rss_mib": spread([r["peak_rss_mib"] for r in results], 1),
    }


def _baseline_runs(
    running: Sandbox, runs: int, script: Callable[[int | None], dict[str, Any]], sample: int
) -> dict[str, Any]:
    """`runs` runs of a baseline script over the first `sample` orders, each on a reset store."""
    seconds, calls, found = [], [], {}
    for _ in range(runs):
        running.reset()
        started = time.perf_counter()
        found = script(sample)
        seconds.append(time.perf_counter() - started)
        calls.append(running.calls())
    tally = calls[0]
    bound = rate_limit_seconds(running.plan, tally.store_api, tally.b2b_api)
    return {
        "orders": found["orders"],
        "found": found,
        "calls": tally.as_dict(),
        "calls_per_run": [c.total for c in calls],
        "calls_per_order": _per_order(tally.total, found["orders"]),
        "seconds": spread(seconds),
        "rate_limit_bound_s": bound,
    }


def _derive(sample: dict[str, Any], orders: int, plan: str) -> dict[str, Any]:
    """Full-store calls (per family, scaled from the sample's answered calls per order) and the
    least wall time the plan allows for them."""
    per_order_store = sample["calls"]["store_api"] / sample["orders"]
    per_order_b2b = sample["calls"]["b2b_api"] / sample["orders"]
    store_api = math.ceil(per_order_store * orders)
    b2b_api = math.ceil(per_order_b2b * orders)
    return {
        "orders": orders,
        "store_api": store_api,
        "b2b_api": b2b_api,
        "total": store_api + b2b_api,
        "rate_limit_bound_s": rate_limit_seconds(plan, store_api, b2b_api),
    }


def api_efficiency(args: argparse.Namespace) -> dict[str, Any]:
    """Workload 1 at every size in `args.sizes`."""
    sizes = []
    for orders in args.sizes:
        with sandbox(orders, plan=API_PLAN, latency_ms=API_LATENCY_MS, seed=args.seed) as running:
            floor = floor_pass(running)
            ours = _b2bsync_runs(running, args.runs)
            ref = _baseline_runs(
                running,
                args.runs,
                lambda n, r=running: reference.run(r.store_url, TOKEN, n),
                args.sample_reference,
            )
            full = _baseline_runs(
                running,
                args.runs,
                lambda n, r=running: complete.run(r.store_url, r.b2b_url, STORE, TOKEN, n),
                args.sample_complete,
            )
        with sandbox(orders, plan="unlimited", seed=args.seed) as unlimited:
            # Baseline (a) over the whole store where no quota slows it: its exact calls.
            ref_whole = _baseline_runs(
                unlimited, 1, lambda n, r=unlimited: reference.run(r.store_url, TOKEN, n), orders
            )
        ref["whole_store_unthrottled"] = {
            "orders": ref_whole["orders"],
            "calls": ref_whole["calls"],
            "calls_per_order": ref_whole["calls_per_order"],
        }
        ref["derived"] = {
            **_derive(ref_whole, orders, API_PLAN),
            "source": "calls measured over the whole store (unlimited plan)",
        }
        full["derived"] = {
            **_derive(full, orders, API_PLAN),
            "source": f"calls per order measured on the {full['orders']}-order sample",
        }
        ours_s = ours["seconds"]["median"]
        ours["rate_limit_bound_s"] = rate_limit_seconds(
            API_PLAN, ours["calls"]["store_api"], ours["calls"]["b2b_api"]
        )
        ours["calls_over_floor"] = round(ours["calls"]["total"] / floor["floor"]["total"], 2)
        ours["calls_above_floor"] = ours["calls"]["total"] - floor["floor"]["total"]
        for baseline in (ref, full):
            baseline["calls_ratio_to_b2bsync"] = round(
                baseline["calls_per_order"] / ours["calls_per_order"], 1
            )
            baseline["derived"]["seconds_ratio_to_b2bsync"] = round(
                baseline["derived"]["rate_limit_bound_s"] / ours_s, 1
            )
        sizes.append(
            {
                "orders": orders,
                "floor": floor,
                "floor_calls_per_order": _per_order(floor["floor"]["total"], orders),
                "b2bsync": ours,
                "reference": ref,
                "complete": full,
            }
        )
    return {
        "plan": API_PLAN,
        "latency_ms": API_LATENCY_MS,
        "rate_limit_formula": RATE_LIMIT_FORMULA,
        "sizes": sizes,
    }


def steady_state(args: argparse.Namespace) -> dict[str, Any]:
    """Workload 2: webhooks on vs polling only, `args.runs` runs each."""
    modes = {}
    for mode in ("webhooks", "polling"):
        runs = []
        for run in range(args.runs):
            settings = argparse.Namespace(
                orders_per_second=args.orders_per_second,
                duration=args.duration,
                history=args.history,
                plan=API_PLAN,
                metafield_delay_max=0.5,
                seed=args.seed + run,
                mode=mode,
                poll_interval=args.poll_interval,
            )
            runs.append(measure_steady(settings))
        modes[mode] = {
            "runs": runs,
            "orders": spread([r["orders"] for r in runs], 0),
            "calls_per_order": spread([r["calls_per_order"] for r in runs]),
            "p50_s": spread([r["p50_s"] for r in runs]),
            "p99_s": spread([r["p99_s"] for r in runs]),
        }
    return {
        "orders_per_second": args.orders_per_second,
        "duration_s": args.duration,
        "history": args.history,
        "plan": API_PLAN,
        "poll_interval_s": args.poll_interval,
        "modes": modes,
    }


def _fresh_postgres(admin_url: str) -> Callable[[], str | None]:
    """A function returning the URL of a new empty database on each call."""
    counter = iter(range(1_000_000))
    base = admin_url.rsplit("/", 1)[0]

    def create() -> str:
        name = f"b2bsync_bench_{os.getpid()}_{next(counter)}"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        return f"{base}/{name}"

    return create


def _drop_bench_databases(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        names = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            (f"b2bsync_bench_{os.getpid()}_%",),
        ).fetchall()
        for (name,) in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def engine_cost(args: argparse.Namespace) -> dict[str, Any]:
    """Workload 3: SQLite and PostgreSQL, each against a zero-latency, unlimited sandbox."""
    backends: dict[str, Any] = {}
    with sandbox(args.engine_orders, plan="unlimited", seed=args.seed) as running:
        backends["sqlite"] = _b2bsync_runs(running, args.runs)
    try:
        psycopg.connect(args.postgres_url, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        backends["postgresql"] = {"skipped": f"PostgreSQL unreachable: {error}"}
        return {"orders": args.engine_orders, "plan": "unlimited", "latency_ms": 0, **backends}
    orders = args.postgres_orders or args.engine_orders
    with sandbox(orders, plan="unlimited", seed=args.seed) as running:
        try:
            backends["postgresql"] = _b2bsync_runs(
                running, args.runs, _fresh_postgres(args.postgres_url)
            )
        finally:
            _drop_bench_databases(args.postgres_url)
    with psycopg.connect(args.postgres_url) as admin:
        autovacuum = admin.execute("SHOW autovacuum").fetchone()
    backends["postgresql"]["autovacuum"] = autovacuum[0] if autovacuum else "unknown"
    return {"orders": args.engine_orders, "plan": "unlimited", "latency_ms": 0, **backends}


def plan_limits(args: argparse.Namespace) -> dict[str, Any]:
    """Workload 4: the same cold backfill on each plan, against the plan's rate-limit bound."""
    plans = {}
    for plan in args.plans:
        with sandbox(
            args.plan_orders, plan=plan, latency_ms=API_LATENCY_MS, seed=args.seed
        ) as running:
            ours = _b2bsync_runs(running, args.runs)
        bound = rate_limit_seconds(plan, ours["calls"]["store_api"], ours["calls"]["b2b_api"])
        per_order = {
            family: ours["calls"][family] / ours["orders"] for family in ("store_api", "b2b_api")
        }
        target = args.plan_target
        plans[plan] = {
            **ours,
            "rate_limit_bound_s": bound,
            "derived_for_target": {
                "orders": target,
                "store_api": math.ceil(per_order["store_api"] * target),
                "b2b_api": math.ceil(per_order["b2b_api"] * target),
                "rate_limit_bound_s": rate_limit_seconds(
                    plan,
                    math.ceil(per_order["store_api"] * target),
                    math.ceil(per_order["b2b_api"] * target),
                ),
                "engine_bound_s": round(target / ours["orders_per_s"]["median"], 1),
            },
        }
    return {
        "orders": args.plan_orders,
        "latency_ms": API_LATENCY_MS,
        "target_orders": args.plan_target,
        "rate_limit_formula": RATE_LIMIT_FORMULA,
        "plans": plans,
    }


WORKLOADS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "api": api_efficiency,
    "steady": steady_state,
    "engine": engine_cost,
    "plans": plan_limits,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument("--runs", type=int, default=3, help="Runs per figure (median, min-max).")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--sample-reference", type=int, default=400)
    parser.add_argument("--sample-complete", type=int, default=100)
    parser.add_argument("--orders-per-second", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=600.0, help="Steady state, seconds.")
    parser.add_argument("--history", type=int, default=500)
    parser.add_argument("--poll-interval", type=float, default=30.0)
    parser.add_argument("--engine-orders", type=int, default=100_000)
    parser.add_argument(
        "--postgres-orders",
        type=int,
        default=None,
        help="Orders for the PostgreSQL engine runs (default: --engine-orders).",
    )
    parser.add_argument(
        "--postgres-url", default=os.environ.get("B2BSYNC_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--plans", nargs="+", default=["standard", "pro", "enterprise"])
    parser.add_argument("--plan-orders", type=int, default=100_000)
    parser.add_argument("--plan-target", type=int, default=100_000)
    parser.add_argument("--output", type=Path, default=HERE, help="Where results.* are written.")
    return parser


def main() -> None:
    """Run the chosen workloads, merge them into results.json, render results.md."""
    args = _parser().parse_args()
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")
    configure_logging()
    # Made before the workloads run, so a long run's figures are never lost to a missing folder.
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "results.json"
    results: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    results["machine"] = machine()
    results["note"] = SHARED_MACHINE_NOTE
    workloads = results.setdefault("workloads", {})
    command = shlex.join(["benchmarks/run.py", *sys.argv[1:]])
    for name in args.workload:
        started = time.perf_counter()
        figures = WORKLOADS[name](args)
        workloads[name] = {
            **figures,
            "runs": args.runs,
            "command": command,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "took_s": round(time.perf_counter() - started, 1),
        }
        path.write_text(json.dumps(results, indent=2) + "\n")
        (args.output / "results.md").write_text(render(results))
        print(f"{name}: done in {workloads[name]['took_s']} s", file=sys.stderr)


if __name__ == "__main__":
    main()
