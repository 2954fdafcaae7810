"""The engine alone: V2 order pages read beforehand, then decode, decide, persist and deliver.

Starts the sandbox in its own process with `--orders` orders, reads every V2 order page once
(the bare read, timed: what the API side of a cold scan costs), fills the signal caches with
b2bsync's own signal streams (not timed), then times on pages held in memory:

1. decode: the whole page with one `TypeAdapter(list[Order])` call (what the scan does) and,
   for comparison, one `model_validate` per record;
2. scan: decode + `process_page` (decide, one set of writes) + checkpoint, one transaction per
   page, as `scan_orders` commits them;
3. deliver: `deliver_due` to a `sql` destination until the outbox is drained.

Wall time and process CPU (the aiosqlite / psycopg threads included) per phase, so a regression
in the engine shows without the network in the way.

    .venv/bin/python benchmarks/engine_inmemory.py [--orders 10000] [--postgres] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx2
from pydantic import TypeAdapter

from b2bsync.bigcommerce._orders import decode_order_page
from b2bsync.bigcommerce.models.orders import Order
from b2bsync.destinations import SqlDestination
from b2bsync.observability import configure_logging
from b2bsync.store import Database
from b2bsync.sync import ProcessSummary
from b2bsync.sync.delivery import deliver_due
from b2bsync.sync.engine import process_page
from b2bsync.sync.poller import ORDER_INCLUDE, ORDERS_STREAM
from b2bsync.sync.streams import run_streams
from harness import STORE, TOKEN, sandbox, sql_context

PAGE = 250
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


async def read_pages(base_url: str) -> tuple[list[list[Any]], float]:
    """Every V2 order page as JSON, oldest change first, and the seconds the read took."""
    pages: list[list[Any]] = []
    started = time.perf_counter()
    async with httpx2.AsyncClient(timeout=120) as http:
        page = 1
        while True:
            response = await http.get(
                f"{base_url}/stores/{STORE}/v2/orders",
                params={**ORDER_INCLUDE, "sort": "date_modified:asc", "page": page, "limit": PAGE},
                headers={"X-Auth-Token": TOKEN, "Accept": "application/json"},
            )
            response.raise_for_status()
            batch = response.json() if response.status_code == 200 else []
            if batch:
                pages.append(batch)
            if len(batch) < PAGE:
                break
            page += 1
    return pages, time.perf_counter() - started


def _timed(run: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def decode_figures(pages: list[list[Any]], repeats: int = 3) -> dict[str, float]:
    """Seconds to decode every page, best of `repeats` alternating runs (collected garbage
    first, so one way does not pay for the other's): per record, and one call per page."""
    adapter = TypeAdapter(list[Order])
    ways: dict[str, Callable[[], Any]] = {
        "per_record_s": lambda: [[Order.model_validate(item) for item in page] for page in pages],
        "per_page_s": lambda: [adapter.validate_python(page) for page in pages],
    }
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(repeats):
        for name, way in ways.items():
            gc.collect()
            _, seconds, _ = _timed(way)
            best[name] = min(best[name], seconds)
    return {name: round(seconds, 3) for name, seconds in best.items()}


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    import psycopg

    name = f"b2bsync_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def engine_run(base_url: str, pages: list[list[Any]], url: str, erp: str) -> dict[str, Any]:
    """Signal caches (untimed), then the timed scan of `pages` and the timed delivery."""
    database = Database(url)
    await database.upgrade()
    sql = SqlDestination("sql", url=erp)
    try:
        async with httpx2.AsyncClient(timeout=120) as http:
            ctx = sql_context(base_url, http, database, sql)
            now = datetime.now(UTC)
            await run_streams(ctx, now)
            summary = ProcessSummary()
            wall, cpu = time.perf_counter(), time.process_time()
            for raw in pages:
                page = decode_order_page(raw)
                async with database.transaction() as tx:
                    summary.add(await process_page(ctx, tx, page.orders, now))
                    newest = max(order.date_modified for order in page.orders)
                    await tx.checkpoints.put(
                        STORE, ORDERS_STREAM, watermark=newest, cursor=None, now=now
                    )
            scan_s, scan_cpu = time.perf_counter() - wall, time.process_time() - cpu
            wall, cpu = time.perf_counter(), time.process_time()
            delivered = 0
            while True:
                done = await deliver_due(ctx, now)
                delivered += done.delivered
                if done.batches == 0 or done.delivered == 0:
                    break
            deliver_s, deliver_cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        await sql.aclose()
        await database.close()
    orders = summary.seen
    return {
        "orders": orders,
        "versions": summary.versions,
        "pending": summary.pending,
        "delivered": delivered,
        "scan_s": round(scan_s, 3),
        "scan_orders_per_s": round(orders / scan_s, 1),
        "scan_cpu_ms_per_order": round(1000 * scan_cpu / orders, 3),
        "deliver_s": round(deliver_s, 3),
        "deliver_orders_per_s": round(delivered / max(deliver_s, 1e-9), 1),
        "deliver_cpu_ms_per_order": round(1000 * deliver_cpu / max(delivered, 1), 3),
    }


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Bare read, decode figures and the engine run against one sandbox."""
    with sandbox(args.orders, seed=args.seed) as running:
        pages, read_s = await read_pages(running.base_url)
        orders = sum(map(len, pages))
        result: dict[str, Any] = {
            "orders": orders,
            "bare_read_s": round(read_s, 3),
            "bare_read_orders_per_s": round(orders / read_s, 1),
            "decode": decode_figures(pages),
        }
        with tempfile.TemporaryDirectory() as workdir:
            erp = f"sqlite:///{workdir}/erp.db"
            if args.postgres:
                async with postgres_database() as url:
                    engine = await engine_run(running.base_url, pages, url, erp)
            else:
                engine = await engine_run(
                    running.base_url, pages, f"sqlite:///{workdir}/ledger.db", erp
                )
        result["database"] = "postgresql" if args.postgres else "sqlite"
        result["engine"] = engine
        result["scan_to_bare_read"] = round(engine["scan_s"] / read_s, 2)
    return result


def main() -> None:
    """Parse arguments, measure, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--postgres", action="store_true", help="Ledger on PostgreSQL.")
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    args = parser.parse_args()
    configure_logging()
    result = asyncio.run(measure(args))
    if args.json:
        print(json.dumps(result))
        return
    engine = result["engine"]
    print(
        f"{result['orders']} orders, {result['database']}: bare read {result['bare_read_s']} s "
        f"({result['bare_read_orders_per_s']}/s); decode per record "
        f"{result['decode']['per_record_s']} s, per page {result['decode']['per_page_s']} s"
    )
    print(
        f"  scan (decode+decide+persist): {engine['scan_s']} s, {engine['scan_orders_per_s']}/s, "
        f"{engine['scan_cpu_ms_per_order']} CPU ms/order, {result['scan_to_bare_read']}x the "
        f"bare read; deliver to sql: {engine['deliver_s']} s, "
        f"{engine['deliver_orders_per_s']}/s, {engine['deliver_cpu_ms_per_order']} CPU ms/order"
    )


if __name__ == "__main__":
    main()
