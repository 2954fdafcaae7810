"""Dashboard page times with 100,000 orders in the ledger, against `/healthz` in the same run.

Fills a fresh ledger (SQLite by default, or `--database-url postgresql://...`) with `--orders`
synthetic orders over two stores and 120 days (about a quarter invoice payments, a few
thousand pending/held/dead), one outbox row each (dead letters included), and cached invoices
and payments (no record bodies: the order page reads one order's rows by primary key); then
times `--repeat` GETs of each page through `create_app(dashboard=...)` in-process after one
warm-up. `/healthz` (no database) is the floor: the ratio says what a page's own work
costs next to the app's fixed overhead.

    .venv/bin/python benchmarks/dashboard_pages.py [--orders 100000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import insert, text

from b2bsync.store import Database
from b2bsync.store.schema import (
    checkpoints,
    invoice_payments,
    invoices,
    metadata,
    orders,
    outbox,
)
from b2bsync.web import create_app
from b2bsync.web.dashboard import Dashboard

STORES = ("benchstore", "otherstore")
TARGET_MS = 200.0
CHUNK = 5_000
TYPES = ("online_order",) * 3 + ("invoice_payment",)
STATES = ("delivered",) * 40 + ("pending_classification", "held", "dead", "ready")


def _order(n: int, now: datetime, rng: random.Random) -> dict[str, Any]:
    created = now - timedelta(seconds=rng.randrange(120 * 86_400))
    state = rng.choice(STATES)
    kind = None if state in ("pending_classification", "held") else rng.choice(TYPES)
    return {
        "store": STORES[n % 2],
        "order_id": 100 + n,
        "order_type": kind,
        "sync_state": state,
        "status_id": rng.choice((10, 11, 2, 0)),
        "status": "Completed",
        "company_id": rng.randrange(1000, 1200),
        "po_number": f"PO-{n}",
        "invoice_ids": [],
        "is_archived": False,
        "date_created": created,
        "date_modified": created,
        "version": 1 if kind else 0,
        "content_hash": None,
        "record": None,
        "classification_source": None,
        "classification_reason": None,
        "signals": {},
        "signals_seen_at": {},
        "pending_since": None,
        "next_check_at": None,
        "check_attempts": 0,
        "classification_deadline": None,
        "first_seen_via": "poll",
        "created_at": created,
        "updated_at": created,
    }


def _outbox(order: dict[str, Any], now: datetime) -> dict[str, Any]:
    dead = order["sync_state"] == "dead"
    return {
        "store": order["store"],
        "order_id": order["order_id"],
        "version": 1,
        "destination": "erp",
        "idempotency_key": f"{order['store']}:{order['order_id']}:1",
        "kind": "order",
        "payload": {},
        "state": "dead" if dead else "delivered",
        "attempts": 8 if dead else 0,
        "next_attempt_at": now,
        "claimed_until": None,
        "last_error": "422 unknown customer" if dead else None,
        "created_at": now,
        "delivered_at": None if dead else now,
    }


async def fill(db: Database, count: int) -> tuple[str, int]:
    """Write the synthetic ledger; returns a (store, order id) whose page to open."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    names = ", ".join(table.name for table in metadata.sorted_tables)
    async with db.transaction() as tx:
        if db.dialect == "postgresql":
            await tx.connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for start in range(0, count, CHUNK):
            rows = [_order(n, now, rng) for n in range(start, min(start + CHUNK, count))]
            await tx.connection.execute(insert(orders), rows)
            await tx.connection.execute(
                insert(outbox), [_outbox(row, now) for row in rows if row["version"]]
            )
        for store in STORES:
            await tx.connection.execute(
                insert(checkpoints).values(
                    store=store, stream="v2_orders", watermark=now, cursor=None, updated_at=now
                )
            )
            await tx.connection.execute(
                insert(invoices),
                [
                    {
                        "store": store,
                        "invoice_id": n,
                        "number": f"INV-{n}",
                        "order_number": str(100 + n),
                        "company_id": 1000,
                        "status": 0,
                        "currency": "USD",
                        "original_balance": "100.00",
                        "open_balance": "40.00",
                        "updated_at": now,
                        "seen_at": now,
                    }
                    for n in range(count // 10)
                ],
            )
            await tx.connection.execute(
                insert(invoice_payments),
                [
                    {
                        "store": store,
                        "payment_id": n,
                        "order_id": 100 + n,
                        "company_id": 1000,
                        "module_name": "payments_bigcommerce_sales_order",
                        "processing_status": 3,
                        "currency": "USD",
                        "total": "60.00",
                        "lines": [{"invoice_id": n, "invoice_number": f"INV-{n}", "amount": "60"}],
                        "updated_at": now,
                        "seen_at": now,
                    }
                    for n in range(count // 10)
                ],
            )
        return (STORES[0], 100)


async def time_paths(url: str, paths: list[str], repeat: int) -> dict[str, list[float]]:
    """Milliseconds of each GET, `repeat` times after one warm-up, through the whole ASGI app
    in-process (routing, guard, queries, templates; no socket, so no client artefact)."""
    db = Database(url)
    transport = httpx2.ASGITransport(app=create_app(dashboard=Dashboard(db=db)))
    timings: dict[str, list[float]] = {}
    try:
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            for path in paths:
                (await client.get(path)).raise_for_status()
                samples = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    response = await client.get(path)
                    samples.append((time.perf_counter() - started) * 1000)
                    response.raise_for_status()
                timings[path] = samples
    finally:
        await db.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'ledger.db'}"

        async def prepare() -> tuple[str, int]:
            db = Database(url)
            try:
                await db.upgrade()
                return await fill(db, args.orders)
            finally:
                await db.close()

        started = time.perf_counter()
        store, order_id = asyncio.run(prepare())
        print(f"filled {args.orders} orders in {time.perf_counter() - started:.1f} s ({url})")
        paths = [
            "/healthz",
            "/",
            "/overview/live",
            "/orders",
            "/orders?type=invoice_payment",
            "/orders?type=unclassified",
            "/orders?state=dead",
            "/orders?company=1100",
            f"/orders?store={STORES[1]}&from=2020-01-01&to=2100-01-01",
            "/orders?search=PO-4242",
            "/orders?page=1000",
            f"/orders/{store}/{order_id}",
            f"/invoices?store={store}",
            "/failures",
            "/settings",
            "/api/overview",
            "/api/orders?page_size=500",
            "/readyz",
        ]
        timings = asyncio.run(time_paths(url, paths, args.repeat))
    floor = statistics.median(timings["/healthz"])
    print(f"{'path':58} {'median ms':>9} {'p95 ms':>8} {'x healthz':>9}")
    worst = 0.0
    for path, samples in timings.items():
        median = statistics.median(samples)
        p95 = sorted(samples)[max(0, round(len(samples) * 0.95) - 1)]
        worst = max(worst, p95 if path != "/healthz" else 0.0)
        print(f"{path:58} {median:9.1f} {p95:8.1f} {median / floor:9.1f}")
    verdict = "under" if worst < TARGET_MS else "OVER"
    print(f"slowest page p95 {worst:.1f} ms: {verdict} the {TARGET_MS:.0f} ms target")


if __name__ == "__main__":
    main()
