"""Cold backfill: API calls per order and orders/s, against a floor measured in the same run.

Starts `b2bsync sandbox serve` in its own process (its own CPU, like a real store) with
`--orders` orders of history (the seed makes ~20-25 % of them invoice payments), the chosen
plan and added latency, then, each with a fresh client:

1. the floor: one plain pass over `GET /v2/orders` (limit 250, with line items), the fewest
   calls and the least time any sync needs just to read the orders;
2. the cold backfill: a fresh SQLite ledger and `run_once` (every signal stream, the V2 scans,
   classification, versions, re-checks), counting every request, retries included.

It prints calls per order (target <= 0.03), orders/s, and both as ratios to the floor.

    .venv/bin/python benchmarks/backfill.py [--orders 10000] [--latency-ms 50] [--plan standard]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from b2bsync.bigcommerce import BigCommerceClient, GovernorRegistry
from b2bsync.observability import configure_logging
from b2bsync.store import Database, OrderFilter
from b2bsync.sync import CallCounter, SyncContext, SyncSettings, run_once

TOKEN = "bench-token"
STORE = "benchstore"
TARGET_CALLS_PER_ORDER = 0.03


@dataclass(frozen=True)
class Sandbox:
    base_url: str


@contextmanager
def sandbox(orders: int, latency_ms: int, plan: str, seed: int) -> Iterator[Sandbox]:
    """`b2bsync sandbox serve` on a free port until the block ends."""
    command = [
        str(Path(sys.executable).with_name("b2bsync")),
        "sandbox",
        "serve",
        "--port=0",
        f"--orders={orders}",
        f"--latency-ms={latency_ms}",
        f"--plan={plan}",
        f"--seed={seed}",
        f"--store-hash={STORE}",
        f"--token={TOKEN}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = ""
        for line in process.stdout:
            if found := re.search(r"listening on (http://\S+)", line):
                base_url = found.group(1)
            if line.startswith("B2B API:"):
                break
        if not base_url:
            raise SystemExit("the sandbox did not start")
        yield Sandbox(base_url)
    finally:
        process.terminate()
        process.wait(timeout=30)


def client(base_url: str, http: httpx2.AsyncClient) -> BigCommerceClient:
    return BigCommerceClient(
        store_hash=STORE,
        access_token=TOKEN,
        api_url=base_url,
        b2b_api_url=f"{base_url}/b2b",
        http_client=http,
        governors=GovernorRegistry(),
    )


async def floor_pass(base_url: str) -> dict[str, float]:
    """One plain listing of every order: the least any sync must do."""
    counter = CallCounter()
    async with httpx2.AsyncClient(
        event_hooks={"request": [counter.on_request]}, timeout=60
    ) as http:
        api = client(base_url, http)
        started = time.perf_counter()
        orders = 0
        page = 1
        while True:
            batch = await api.orders.page(
                {"include": "consignments.line_items", "sort": "id:asc"}, page=page, limit=250
            )
            orders += len(batch)
            if len(batch) < 250:
                break
            page += 1
        seconds = time.perf_counter() - started
    return {"orders": orders, "calls": counter.count, "seconds": seconds}


async def cold_backfill(base_url: str, workdir: Path) -> dict[str, Any]:
    """`run_once` into an empty ledger: the first sync of a store."""
    counter = CallCounter()
    database = Database(f"sqlite:///{workdir}/ledger.db")
    await database.upgrade()
    try:
        async with httpx2.AsyncClient(
            event_hooks={"request": [counter.on_request]}, timeout=60
        ) as http:
            ctx = SyncContext(
                store=STORE,
                client=client(base_url, http),
                db=database,
                settings=SyncSettings(),
                calls=counter,
            )
            started = time.perf_counter()
            summary = await run_once(ctx)
            seconds = time.perf_counter() - started
        async with database.transaction(readonly=True) as tx:
            ledger = (await tx.ledger.list_orders(OrderFilter(store=STORE), page_size=1)).total
    finally:
        await database.close()
    return {
        "orders": summary.poll.orders_read,
        "ledger_orders": ledger,
        "versions": summary.poll.processed.versions + summary.recheck.processed.versions,
        "pending": summary.poll.processed.pending,
        "calls": counter.count,
        "seconds": seconds,
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    with sandbox(args.orders, args.latency_ms, args.plan, args.seed) as running:
        floor = asyncio.run(floor_pass(running.base_url))
        with tempfile.TemporaryDirectory() as workdir:
            backfill = asyncio.run(cold_backfill(running.base_url, Path(workdir)))
    orders = max(backfill["orders"], 1)
    calls_per_order = backfill["calls"] / orders
    floor_per_order = floor["calls"] / max(floor["orders"], 1)
    rate = backfill["orders"] / backfill["seconds"]
    floor_rate = floor["orders"] / floor["seconds"]
    return {
        "store_orders": floor["orders"],
        "plan": args.plan,
        "latency_ms": args.latency_ms,
        "backfill": backfill,
        "floor": floor,
        "calls_per_order": round(calls_per_order, 4),
        "floor_calls_per_order": round(floor_per_order, 4),
        "calls_ratio_to_floor": round(calls_per_order / floor_per_order, 2),
        "orders_per_s": round(rate, 1),
        "floor_orders_per_s": round(floor_rate, 1),
        "speed_ratio_to_floor": round(rate / floor_rate, 3),
        "target_calls_per_order": TARGET_CALLS_PER_ORDER,
        "meets_target": calls_per_order <= TARGET_CALLS_PER_ORDER,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--plan", default="standard")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    args = parser.parse_args()
    configure_logging()
    result = measure(args)
    if args.json:
        print(json.dumps(result))
        return
    backfill, floor = result["backfill"], result["floor"]
    print(
        f"Cold backfill of {backfill['orders']} orders ({args.plan} plan, "
        f"{args.latency_ms} ms latency): {backfill['calls']} API calls in "
        f"{backfill['seconds']:.1f} s"
    )
    print(
        f"  calls per order: {result['calls_per_order']:.4f} (target <= "
        f"{TARGET_CALLS_PER_ORDER}; floor {result['floor_calls_per_order']:.4f}, "
        f"ratio {result['calls_ratio_to_floor']:.2f}x) "
        f"{'OK' if result['meets_target'] else 'ABOVE TARGET'}"
    )
    print(
        f"  orders/s: {result['orders_per_s']:.1f} (plain V2 listing: "
        f"{result['floor_orders_per_s']:.1f} in {floor['seconds']:.1f} s with {floor['calls']} "
        f"calls; ratio {result['speed_ratio_to_floor']:.3f})"
    )
    print(
        f"  ledger: {backfill['ledger_orders']} orders, {backfill['versions']} versions, "
        f"{backfill['pending']} waiting for a signal"
    )


if __name__ == "__main__":
    main()
