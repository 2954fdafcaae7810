"""Flat with size: an incremental round over a few hundred changed orders must cost what it costs
over a small ledger, however many orders the ledger already holds.

Starts the sandbox in its own process with `--orders` of history, cold-syncs them into a fresh
ledger (SQLite or PostgreSQL, delivering to a `sql` destination), then for each `--sizes` entry,
smallest first:

1. pads the ledger up to that many orders by copying its own rows under new order ids inside the
   database (`orders`, `order_versions`, `order_events`, `order_signals`, `order_drafts`,
   `outbox`), so every table and index has the size a store of that many orders gives it, and
   refreshes the planner's statistics;
2. `--repeats` times: changes `--changed` orders in the sandbox (a status update each) and times
   one incremental `run_once` (every stream, the V2 scan, versions, delivery) with a one-second
   overlap, so that each round reads just those orders; its CPU time and the SQL statements it
   sent. The median round is reported.

The figure is each round's wall and CPU time as a ratio to the first (smallest) round's, measured
in the same run.

    .venv/bin/python benchmarks/ledger_size.py [--orders 10000] [--sizes 10000 1000000]
        [--changed 250] [--postgres URL] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import psycopg
from sqlalchemy import Table, event, func, insert, literal, select, text

from b2bsync.destinations import SqlDestination
from b2bsync.observability import configure_logging
from b2bsync.store import Database
from b2bsync.store.schema import (
    order_drafts,
    order_events,
    order_signals,
    order_versions,
    orders,
    outbox,
)
from b2bsync.sync import SyncSettings, run_once
from harness import STORE, TOKEN, machine, sandbox, sql_context

PADDED: tuple[Table, ...] = (
    orders,
    order_versions,
    order_events,
    order_signals,
    order_drafts,
    outbox,
)
"""Every table that holds rows per order and grows with the store."""


def _copy_rows(table: Table, offset: int, below: int) -> Any:
    """`INSERT INTO table SELECT ...` of the rows with `order_id < below`, under `order_id +
    offset` (and an idempotency key made unique the same way); generated ids are left out."""
    columns = [c for c in table.columns if not (c.primary_key and c.autoincrement is True)]
    columns = [c for c in columns if c.name != "id"]
    values = []
    for column in columns:
        if column.name == "order_id":
            values.append((column + offset).label("order_id"))
        elif column.name == "idempotency_key":
            values.append((column + literal(f"+{offset}")).label("idempotency_key"))
        else:
            values.append(column)
    source = select(*values).where(table.c.order_id < below)
    return insert(table).from_select([c.name for c in columns], source)


async def _pad(database: Database, target: int) -> int:
    """Copy the ledger's first orders under new ids until it holds `target` orders; returns how
    many it holds."""
    async with database.transaction(readonly=True) as tx:
        base = await tx.connection.scalar(select(func.count()).select_from(orders))
        top = await tx.connection.scalar(select(func.max(orders.c.order_id)))
    count = int(base or 0)
    below = int(top or 0) + 1
    stride = 10 ** len(str(below))
    copy = 1
    while count < target:
        async with database.transaction() as tx:
            for table in PADDED:
                await tx.connection.execute(_copy_rows(table, copy * stride, below))
        count += int(base or 0)
        copy += 1
    async with database.transaction() as tx:
        await tx.connection.execute(text("ANALYZE"))
    return count


@contextmanager
def _statements(database: Database) -> Iterator[list[int]]:
    """Counts the statements sent to the database while inside (one list cell, for the caller)."""
    counted = [0]

    def count(*_: Any) -> None:
        counted[0] += 1

    sync_engine = database.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        yield counted
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)


async def _change_orders(base_url: str, order_ids: list[int]) -> None:
    """A status change on each order, through the store API, as staff would make it."""
    async with httpx2.AsyncClient(
        base_url=f"{base_url}/stores/{STORE}",
        headers={"X-Auth-Token": TOKEN, "Accept": "application/json"},
        timeout=60,
    ) as http:
        for order_id in order_ids:
            current = (await http.get(f"/v2/orders/{order_id}")).json()
            status = 10 if current["status_id"] != 10 else 11
            response = await http.put(f"/v2/orders/{order_id}", json={"status_id": status})
            response.raise_for_status()


async def _round(database: Database, base_url: str, erp_url: str) -> dict[str, Any]:
    sql = SqlDestination("sql", url=erp_url)
    try:
        async with httpx2.AsyncClient(timeout=120) as http:
            # A one-second overlap: each round then reads just the orders changed since the
            # last one, so rounds at every size do the same work.
            ctx = dataclasses.replace(
                sql_context(base_url, http, database, sql),
                settings=SyncSettings(overlap=timedelta(seconds=1)),
            )
            with _statements(database) as counted:
                before = resource.getrusage(resource.RUSAGE_SELF)
                started = time.perf_counter()
                summary = await run_once(ctx)
                seconds = time.perf_counter() - started
                after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        await sql.aclose()
    return {
        "seconds": round(seconds, 3),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 3),
        "statements": counted[0],
        "orders_read": summary.poll.orders_read,
        "versions": summary.poll.processed.versions + summary.recheck.processed.versions,
        "delivered": summary.delivery.delivered,
    }


async def measure(
    args: argparse.Namespace, base_url: str, database_url: str, order_ids: list[int]
) -> dict[str, Any]:
    """The cold sync, then one padded incremental round per size (`order_ids`: the store's)."""
    database = Database(database_url)
    await database.upgrade()
    workdir = Path(tempfile.mkdtemp(prefix="ledger-size-"))
    erp_url = f"sqlite:///{workdir}/erp.db"
    rng = random.Random(args.seed)
    rounds = []
    try:
        cold = await _round(database, base_url, erp_url)
        for size in sorted(args.sizes):
            started = time.perf_counter()
            held = await _pad(database, size)
            padding_s = time.perf_counter() - started
            repeats = []
            for _ in range(args.repeats):
                await _change_orders(base_url, rng.sample(order_ids, args.changed))
                # Two quiet seconds: the changes are inside the scan's horizon, and the
                # one-second overlap reaches no order of the previous round.
                await asyncio.sleep(2.1)
                repeats.append(await _round(database, base_url, erp_url))
            middle = sorted(repeats, key=lambda entry: entry["seconds"])[len(repeats) // 2]
            rounds.append(
                {
                    "ledger_orders": held,
                    "padding_s": round(padding_s, 1),
                    **middle,
                    "runs_seconds": [entry["seconds"] for entry in repeats],
                }
            )
    finally:
        await database.close()
    first = rounds[0]
    for entry in rounds:
        entry["seconds_ratio"] = round(entry["seconds"] / first["seconds"], 2)
        entry["cpu_ratio"] = round(entry["cpu_s"] / max(first["cpu_s"], 1e-9), 2)
    return {"cold_sync": cold, "rounds": rounds}


@contextmanager
def _database_url(args: argparse.Namespace) -> Iterator[str]:
    """A fresh SQLite file, or a fresh database on the `--postgres` server (dropped after)."""
    if args.postgres is None:
        with tempfile.TemporaryDirectory() as workdir:
            yield f"sqlite:///{workdir}/ledger.db"
        return
    name = f"b2bsync_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(args.postgres, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{args.postgres.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(args.postgres, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000, help="Orders in the sandbox.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--changed", type=int, default=250)
    parser.add_argument("--repeats", type=int, default=3, help="Rounds per size (the median).")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--postgres", metavar="URL", help="A PostgreSQL server's admin URL (else SQLite)."
    )
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    args = parser.parse_args()
    configure_logging()
    with (
        sandbox(args.orders, plan="unlimited", latency_ms=0, seed=args.seed) as running,
        _database_url(args) as url,
    ):
        order_ids = sorted(order["id"] for order in running.ground_truth())
        result = asyncio.run(measure(args, running.base_url, url, order_ids))
    result |= {
        "database": "postgresql" if args.postgres else "sqlite",
        "sandbox_orders": args.orders,
        "changed": args.changed,
        "machine": machine(),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for entry in result["rounds"]:
        print(
            f"{entry['ledger_orders']:>9,} orders in the ledger: {entry['seconds']:.2f} s "
            f"({entry['seconds_ratio']}x), CPU {entry['cpu_s']:.2f} s ({entry['cpu_ratio']}x), "
            f"{entry['statements']} statements, {entry['versions']} versions"
        )


if __name__ == "__main__":
    main()
