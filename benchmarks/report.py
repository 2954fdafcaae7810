"""`results.md` from `results.json`: the figures as tables, each with how it was obtained."""

from __future__ import annotations

from typing import Any

from physics import rate_limit_seconds

FULL_STEADY_S = 600
FULL_ENGINE_ORDERS = 100_000


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "none (no quota)"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def _spread(figure: dict[str, Any], unit: str = "") -> str:
    return f"{figure['median']}{unit} ({figure['min']}-{figure['max']})"


def _spread_s(figure: dict[str, Any]) -> str:
    return f"{_s(figure['median'])} ({_s(figure['min'])}-{_s(figure['max'])})"


def _calls(calls: dict[str, int]) -> str:
    text = f"{calls['total']:,} ({calls['store_api']:,} store API + {calls['b2b_api']:,} B2B"
    return text + (f", {calls['throttled']:,} × 429)" if calls["throttled"] else ")")


def _api(section: dict[str, Any]) -> list[str]:
    lines = [
        "## 1. API efficiency, cold backfill",
        "",
        f"`{section['plan']}` plan, {section['latency_ms']} ms added latency per request. "
        "b2bsync is measured over the whole store; the baselines' wall times at plan limits "
        "are measured on a sample of the first orders (what fits in this session) and derived "
        "for the whole store as the rate-limit lower bound of their calls:",
        "",
        f"    {section['rate_limit_formula']}",
        "",
    ]
    if max(size["orders"] for size in section["sizes"]) < FULL_ENGINE_ORDERS:
        lines += [
            f"The runner's default sizes are 10,000 and {FULL_ENGINE_ORDERS:,} orders "
            "(`--sizes`); this session ran only the sizes below to fit its time. Section 4 "
            f"derives a {FULL_ENGINE_ORDERS:,}-order backfill from measured calls per order.",
            "",
        ]
    for size in section["sizes"]:
        floor, ours = size["floor"], size["b2bsync"]
        ref, full = size["reference"], size["complete"]
        shape = floor["shape"]
        lines += [
            f"### {size['orders']:,} orders",
            "",
            f"Data: {shape['orders']:,} orders in the V2 list, {shape['metafields']:,} "
            f"`orderType` metafields, {shape['b2b_records']:,} B2B Edition order records. "
            f"**Floor**: {floor['floor']['v2_pages']} V2 pages of 250 + "
            f"{floor['floor']['metafield_pages']} metafield pages of 250 + "
            f"{floor['floor']['b2b_pages']} B2B pages of 200 = **{floor['floor']['total']} calls** "
            f"({size['floor_calls_per_order']} per order); the floor pass that read them took "
            f"{floor['pass_calls']['total']} calls.",
            "",
            "| approach | calls per order | calls | wall time | vs b2bsync |",
            "|---|---|---|---|---|",
            f"| b2bsync (measured, whole store, {len(ours['calls_per_run'])} runs) | "
            f"{ours['calls_per_order']} | {_calls(ours['calls'])} | "
            f"{_spread_s(ours['seconds'])} | 1 |",
            f"| (a) V2 list + metafield per order: whole store, no quota (measured) | "
            f"{ref['whole_store_unthrottled']['calls_per_order']} | "
            f"{_calls(ref['whole_store_unthrottled']['calls'])} | - | "
            f"{ref['calls_ratio_to_b2bsync']}× calls |",
            f"| (a) at plan limits, first {ref['orders']} orders (measured) | "
            f"{ref['calls_per_order']} | {_calls(ref['calls'])} | {_spread_s(ref['seconds'])} "
            f"(bound {_s(ref['rate_limit_bound_s'])}) | - |",
            f"| (a) whole store at plan limits (**derived** lower bound) | - | "
            f"{ref['derived']['total']:,} | ≥ {_s(ref['derived']['rate_limit_bound_s'])} | "
            f"≥ {ref['derived']['seconds_ratio_to_b2bsync']}× time |",
            f"| (b) five GETs per order, first {full['orders']} orders (measured) | "
            f"{full['calls_per_order']} | {_calls(full['calls'])} | "
            f"{_spread_s(full['seconds'])} (bound {_s(full['rate_limit_bound_s'])}) | "
            f"{full['calls_ratio_to_b2bsync']}× calls |",
            f"| (b) whole store at plan limits (**derived** lower bound) | - | "
            f"{full['derived']['total']:,} ({full['derived']['store_api']:,} store API + "
            f"{full['derived']['b2b_api']:,} B2B) | ≥ {_s(full['derived']['rate_limit_bound_s'])}"
            f" | ≥ {full['derived']['seconds_ratio_to_b2bsync']}× time |",
            "",
            f"b2bsync: {ours['calls_over_floor']}× the floor ({ours['calls_above_floor']} calls "
            "above it; it also reads the invoice, payment, company and archived-order lists, "
            "which the floor leaves out, and asks for the empty page that ends a list). Its own "
            f"rate-limit bound is {_s(ours['rate_limit_bound_s'])}: its wall time is set by "
            f"the engine ({_spread(ours['orders_per_s'], ' orders/s')}), not by the quota.",
            "",
        ]
    return lines


def _steady(section: dict[str, Any]) -> list[str]:
    lines = [
        "## 2. Steady state",
        "",
        f"{section['orders_per_second']} orders/s for {section['duration_s']:g} s on the "
        f"`{section['plan']}` plan after a {section['history']}-order backfill; latency from "
        "the order's creation (or its `orderType` metafield, if later) to the `sql` "
        "destination's commit. Polling only polls every "
        f"{section['poll_interval_s']:g} s (`b2bsync sync`'s default).",
        *(
            []
            if section["duration_s"] >= FULL_STEADY_S
            else [
                "",
                f"The issue's workload runs {FULL_STEADY_S // 60} minutes (`--duration "
                f"{FULL_STEADY_S}`, the runner's default); this session ran "
                f"{section['duration_s']:g} s per run to fit its time.",
            ]
        ),
        "",
        "| mode | orders | calls per order | p50 | p99 |",
        "|---|---|---|---|---|",
    ]
    for mode, figures in section["modes"].items():
        lines.append(
            f"| {mode} | {_spread(figures['orders'])} | {_spread(figures['calls_per_order'])} | "
            f"{_spread(figures['p50_s'], ' s')} | {_spread(figures['p99_s'], ' s')} |"
        )
    return [*lines, ""]


def _engine(section: dict[str, Any]) -> list[str]:
    lines = [
        "## 3. Engine cost",
        "",
        f"Cold backfill of {section['orders']:,} orders, zero latency, no rate limit: every "
        "stream, classify, hash, ledger, outbox, delivery to a `sql` destination on the same "
        "database. CPU and peak RSS are those of the backfill process (`resource.getrusage`); "
        "the sandbox and the PostgreSQL server run in their own processes and are not counted.",
        *(
            []
            if section["orders"] >= FULL_ENGINE_ORDERS
            else [
                "",
                f"The issue asks for a {FULL_ENGINE_ORDERS:,}-order backfill (the runner's "
                f"default, `--engine-orders`); {section['orders']:,} orders is the largest that "
                "fitted this session, so the peak RSS is that of a "
                f"{section['orders']:,}-order backfill.",
            ]
        ),
        "",
        "| database | orders | orders/s | CPU s per 1,000 orders | peak RSS | wall time |",
        "|---|---|---|---|---|---|",
    ]
    for backend in ("sqlite", "postgresql"):
        figures = section.get(backend)
        if figures is None:
            continue
        if "skipped" in figures:
            lines.append(f"| {backend} | {figures['skipped']} | | | | |")
            continue
        lines.append(
            f"| {backend} | {figures['orders']:,} | {_spread(figures['orders_per_s'])} | "
            f"{_spread(figures['cpu_s_per_1000_orders'])} | "
            f"{_spread(figures['peak_rss_mib'], ' MiB')} | {_spread_s(figures['seconds'])} |"
        )
    postgresql = section.get("postgresql", {})
    if postgresql.get("autovacuum") == "off":
        lines += [
            "",
            "PostgreSQL ran with autovacuum off (this machine's server), so the outbox table "
            "was never analysed during the backfill. The delivery claim's plan does not depend "
            "on that since revision 0006: it walks the (destination, state, next_attempt_at, "
            "id) index and stops after the batch, probing each candidate's earlier versions by "
            "index. Before, the planner, expecting one pending row, ran the claim's anti-join "
            "as a nested loop over all pending rows, quadratic in the backlog.",
        ]
    return [*lines, ""]


def _baselines_at(api: dict[str, Any], orders: int, plan: str) -> str:
    """The baselines' rate-limit bound for `orders` on `plan`, from their measured calls per
    order (per quota) in the largest API-efficiency size."""
    size = max(api["sizes"], key=lambda size: size["orders"])
    bounds = []
    for name in ("reference", "complete"):
        derived = size[name]["derived"]
        per_store = derived["store_api"] / derived["orders"]
        per_b2b = derived["b2b_api"] / derived["orders"]
        bound = rate_limit_seconds(plan, round(per_store * orders), round(per_b2b * orders))
        bounds.append(f"≥ {_s(bound)}")
    return " / ".join(bounds)


def _plans(section: dict[str, Any], api: dict[str, Any] | None) -> list[str]:
    target = section["target_orders"]
    lines = [
        "## 4. Backfill time at plan limits",
        "",
        f"b2bsync's cold backfill of {section['orders']:,} orders, {section['latency_ms']} ms "
        "latency, measured; the lower bound is the rate limit's for the calls it made. "
        f"For {target:,} orders the calls are **derived** from the measured calls per order "
        "(per quota), and the two bounds are the rate limit's for them and the engine's "
        f"({target:,} / the measured orders/s). The sandbox's `--time-scale` scales only "
        "webhook retry delays, not rate-limit windows, so nothing here is time-compressed. "
        "The baselines' column applies the same formula to their calls per order measured in "
        "section 1 (B2B Edition's 150 requests a minute does not grow with the plan, so it "
        "bounds (b) on pro and enterprise).",
        "",
        "| plan | measured wall time | calls | rate-limit bound | "
        f"derived for {target:,}: rate-limit bound | engine bound |"
        + (" baselines (a) / (b), derived rate-limit bound |" if api else ""),
        "|---|---|---|---|---|---|" + ("---|" if api else ""),
    ]
    for plan, figures in section["plans"].items():
        derived = figures["derived_for_target"]
        lines.append(
            f"| {plan} | {_spread_s(figures['seconds'])} | {_calls(figures['calls'])} | "
            f"{_s(figures['rate_limit_bound_s'])} | {_s(derived['rate_limit_bound_s'])} "
            f"({derived['store_api'] + derived['b2b_api']:,} calls) | "
            f"{_s(derived['engine_bound_s'])} |"
            + (f" {_baselines_at(api, target, plan)} |" if api else "")
        )
    return [*lines, ""]


def render(results: dict[str, Any]) -> str:
    """The whole report."""
    host = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {host['cores']} cores, {host['cpu']}, Python {host['python']}, "
        f"{host['system']}. {results['note']}",
        "",
        "Figures are the median of the runs, with the min-max in brackets. Generated by "
        "`benchmarks/run.py` from `results.json`; each section names the command that produced "
        "it.",
        "",
    ]
    api = results["workloads"].get("api")
    sections = {
        "api": _api,
        "steady": _steady,
        "engine": _engine,
        "plans": lambda section: _plans(section, api),
    }
    for name, write in sections.items():
        section = results["workloads"].get(name)
        if section is None:
            continue
        lines += write(section)
        if section.get("note"):
            lines += [section["note"], ""]
        lines += [
            f"Command: `{section['command']}` ({section['runs']} runs per figure, finished "
            f"{section['finished_at']}, took {_s(section['took_s'])}).",
            "",
        ]
    return "\n".join(lines)
