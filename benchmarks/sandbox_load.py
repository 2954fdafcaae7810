"""Sandbox throughput and memory, measured from a second process with wrk.

Starts `b2bsync sandbox serve` (plan unlimited, no faults) for each store size, loads it with
wrk, and reports requests/s for the sync's hot query (`GET /v2/orders?limit=250` with line
items) as a ratio to a trivial endpoint (`GET /v2/order_statuses`) measured in the same run,
plus the server's resident memory. Needs `wrk` (Debian package `wrk`).

    .venv/bin/python benchmarks/sandbox_load.py [--orders 500 100000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from harness import TOKEN, machine, sandbox

HOT_QUERY = "/v2/orders?limit=250&include=consignments.line_items&consignment_structure=object"
SORTED_QUERY = HOT_QUERY + "&sort=date_modified:asc"
BASELINE = "/v2/order_statuses"


def wait_ready(base: str, deadline_s: float) -> None:
    request = urllib.request.Request(base + BASELINE, headers={"X-Auth-Token": TOKEN})
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise SystemExit(f"sandbox at {base} did not come up in {deadline_s:.0f} s")


def rss_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"X-Auth-Token: {TOKEN}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw non-2xx answers for {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p50_ms = float(p50.group(1)) * scale[p50.group(2)] if p50 else float("nan")
    return {"requests_per_s": rps, "p50_ms": p50_ms}


def measure(orders: int, seconds: int, connections: int) -> dict[str, object]:
    started = time.monotonic()
    with sandbox(orders, plan="unlimited") as running:
        base = running.store_url
        wait_ready(base, deadline_s=600)
        ready_s = time.monotonic() - started
        memory_after_seed = rss_kib(running.pid)
        baseline = wrk(base + BASELINE, seconds, connections)
        hot = wrk(base + HOT_QUERY, seconds, connections)
        hot_sorted = wrk(base + SORTED_QUERY, seconds, connections)
        memory = rss_kib(running.pid)
    return {
        "orders": orders,
        "start_s": round(ready_s, 1),
        "rss_mib_after_seed": round(memory_after_seed["VmRSS"] / 1024),
        "peak_rss_mib": round(memory["VmHWM"] / 1024),
        "baseline_rps": round(baseline["requests_per_s"], 1),
        "orders_250_rps": round(hot["requests_per_s"], 1),
        "orders_250_p50_ms": round(hot["p50_ms"], 1),
        "orders_250_sorted_rps": round(hot_sorted["requests_per_s"], 1),
        "ratio_to_baseline": round(hot["requests_per_s"] / baseline["requests_per_s"], 3),
        "orders_per_s": round(hot["requests_per_s"] * 250),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[500, 100_000])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    results = [measure(n, args.seconds, args.connections) for n in args.orders]
    print(json.dumps({"machine": machine(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
