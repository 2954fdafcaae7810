"""Cold backfill: API calls per order, orders/s, CPU and memory, against the floor of the data.

Starts `b2bsync sandbox serve` in its own process (its own CPU, like a real store) with
`--orders` orders of history (the seed makes ~20-25 % of them invoice payments), the chosen
plan and added latency, then:

1. the floor pass: one plain read of every list a sync needs (V2 orders with line items, 250 a
   page; `orderType` metafields, 250 a page; B2B Edition order records, 200 a page), which
   gives the data's shape and so the fewest calls the API allows for it (`physics.py`);
2. the cold backfill, in a fresh process: an empty ledger, `run_once` (every signal stream, the
   V2 scans, classification, versions, re-checks, delivery to a `sql` destination), counting
   every request at the sandbox, with the process's CPU time and peak RSS.

    .venv/bin/python benchmarks/backfill.py [--orders 10000] [--latency-ms 50] [--plan standard]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx2

from b2bsync.destinations import SqlDestination
from b2bsync.domain.order_type import ORDER_TYPE_METAFIELD_KEY
from b2bsync.observability import configure_logging
from b2bsync.store import Database, LedgerQuery
from b2bsync.sync import SyncSettings, run_once
from harness import STORE, Sandbox, api_client, sandbox, sql_context
from physics import B2B_PAGE, METAFIELD_PAGE, V2_PAGE, DataShape, floor_calls

TARGET_CALLS_PER_ORDER = 0.03


async def _read_shape(base_url: str) -> DataShape:
    async with httpx2.AsyncClient(timeout=120) as http:
        api = api_client(base_url, http)
        orders = 0
        page = 1
        while True:
            batch = await api.orders.page(
                {"include": "consignments.line_items", "sort": "id:asc"}, page=page, limit=V2_PAGE
            )
            orders += len(batch)
            if len(batch) < V2_PAGE:
                break
            page += 1
        metafields = 0
        async for _ in api.metafields.iterate_all(
            {"key": ORDER_TYPE_METAFIELD_KEY}, page_size=METAFIELD_PAGE
        ):
            metafields += 1
        since = datetime.now(UTC) - SyncSettings().backfill
        b2b_records = 0
        async for _ in api.b2b.orders({"minModified": since}, page_size=B2B_PAGE):
            b2b_records += 1
    return DataShape(orders, metafields, b2b_records)


def floor_pass(running: Sandbox) -> dict[str, Any]:
    """Read every list once at its largest page: the data's shape, the floor computed from it,
    and the calls and time the pass itself took."""
    running.reset()
    started = time.perf_counter()
    shape = asyncio.run(_read_shape(running.base_url))
    seconds = time.perf_counter() - started
    return {
        "shape": {
            "orders": shape.orders,
            "metafields": shape.metafields,
            "b2b_records": shape.b2b_records,
        },
        "floor": floor_calls(shape),
        "pass_calls": running.calls().as_dict(),
        "pass_seconds": round(seconds, 3),
    }


async def cold_backfill(base_url: str, database_url: str, erp_url: str) -> dict[str, Any]:
    """`run_once` into an empty ledger with a `sql` destination: the first sync of a store."""
    database = Database(database_url)
    await database.upgrade()
    sql = SqlDestination("sql", url=erp_url)
    try:
        async with httpx2.AsyncClient(timeout=120) as http:
            ctx = sql_context(base_url, http, database, sql)
            started = time.perf_counter()
            summary = await run_once(ctx)
            seconds = time.perf_counter() - started
        async with database.transaction(readonly=True) as tx:
            ledger = (await tx.ledger.list_orders(LedgerQuery(store=STORE), page_size=1)).total
    finally:
        await sql.aclose()
        await database.close()
    return {
        "orders": summary.poll.orders_read,
        "ledger_orders": ledger,
        "versions": summary.poll.processed.versions + summary.recheck.processed.versions,
        "pending": summary.poll.processed.pending,
        "delivered": summary.delivery.delivered,
        "seconds": seconds,
    }


def _backfill_in_this_process(base_url: str, database_url: str, erp_url: str) -> dict[str, Any]:
    configure_logging()
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = asyncio.run(cold_backfill(base_url, database_url, erp_url))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss is in KiB on Linux; the process did nothing but this backfill.
    return {**result, "cpu_s": cpu, "peak_rss_mib": after.ru_maxrss / 1024}


def measured_backfill(
    running: Sandbox, database_url: str | None = None, erp_url: str | None = None
) -> dict[str, Any]:
    """A cold backfill in a fresh process (so its CPU time and peak RSS are its own) against a
    freshly reset sandbox; calls as the sandbox counted them. SQLite files in a temporary
    directory unless URLs are given."""
    running.reset()
    with tempfile.TemporaryDirectory() as workdir:
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as child:
            result = child.submit(
                _backfill_in_this_process,
                running.base_url,
                database_url or f"sqlite:///{workdir}/ledger.db",
                erp_url or f"sqlite:///{workdir}/erp.db",
            ).result()
    return {**result, "calls": running.calls().as_dict()}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Floor pass and one cold backfill against one sandbox."""
    with sandbox(
        args.orders, plan=args.plan, latency_ms=args.latency_ms, seed=args.seed
    ) as running:
        floor = floor_pass(running)
        backfill = measured_backfill(running)
    orders = max(backfill["orders"], 1)
    calls = backfill["calls"]["total"]
    return {
        "store_orders": floor["shape"]["orders"],
        "plan": args.plan,
        "latency_ms": args.latency_ms,
        "backfill": backfill,
        "floor": floor,
        "calls_per_order": round(calls / orders, 4),
        "floor_calls_per_order": round(floor["floor"]["total"] / orders, 4),
        "calls_ratio_to_floor": round(calls / max(floor["floor"]["total"], 1), 2),
        "orders_per_s": round(backfill["orders"] / backfill["seconds"], 1),
        "target_calls_per_order": TARGET_CALLS_PER_ORDER,
        "meets_target": calls / orders <= TARGET_CALLS_PER_ORDER,
    }


def main() -> None:
    """Parse arguments, measure, print the figures."""
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
        f"{args.latency_ms} ms latency): {backfill['calls']['total']} API calls in "
        f"{backfill['seconds']:.1f} s, {backfill['cpu_s']:.1f} CPU s, "
        f"peak RSS {backfill['peak_rss_mib']:.0f} MiB"
    )
    print(
        f"  calls per order: {result['calls_per_order']:.4f} (target <= "
        f"{TARGET_CALLS_PER_ORDER}; floor {result['floor_calls_per_order']:.4f} = "
        f"{floor['floor']['total']} calls for {floor['shape']}, ratio "
        f"{result['calls_ratio_to_floor']:.2f}x) "
        f"{'OK' if result['meets_target'] else 'ABOVE TARGET'}"
    )
    print(
        f"  orders/s: {result['orders_per_s']:.1f}; ledger: {backfill['ledger_orders']} orders, "
        f"{backfill['versions']} versions, {backfill['pending']} waiting for a signal, "
        f"{backfill['delivered']} delivered to sql"
    )


if __name__ == "__main__":
    main()
