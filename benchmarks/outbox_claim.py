"""The outbox claim on PostgreSQL over a backfill's backlog, in a table without statistics.

Enqueues `--rows` outbox rows for one destination (every fifth order with a second version, so
the in-order check has work to do) through `OutboxRepository.enqueue` in a fresh database that
is never analysed, as on a server with autovacuum off or before the first auto-analyse of a
bulk load; then drains them in batches of `--batch`: `claim_due`, then `mark_delivered` for
each row. Prints the claim statement's plan with its actual times, and the time spent in
`claim_due` alone; the mean per claim over the first and the last tenth of the claims says
whether a claim's cost grows with the backlog. `--analyze` runs ANALYZE first, for the plan
with statistics.

    .venv/bin/python benchmarks/outbox_claim.py [--rows 10000] [--batch 50] [--analyze]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import event, text

from b2bsync.domain.delivery import Delivery, delivery_kind, idempotency_key
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.records import B2BInfo, OrderRecord
from b2bsync.store import Database
from b2bsync.store.outbox import OutboxRepository

STORE = "benchstore"
DESTINATION = "sql"
T0 = datetime(2026, 3, 1, tzinfo=UTC)
PAGE = 250
"""Rows enqueued per transaction, like one page of a backfill."""


def deliveries(rows: int) -> list[Delivery]:
    """`rows` deliveries: orders 1, 2, ... at version 1, every fifth also at version 2."""
    found: list[Delivery] = []
    order_id = 0
    while len(found) < rows:
        order_id += 1
        record = OrderRecord(
            store=STORE,
            order_id=order_id,
            order_type=OrderType.ONLINE_ORDER,
            status_id=11,
            status="Awaiting Fulfillment",
            date_created=T0,
            date_modified=T0,
            currency="USD",
            total_inc_tax=Decimal("10.0000"),
            b2b=B2BInfo(company_id=7, company_name="Acme", po_number=f"PO-{order_id}"),
        )
        for version in (1, 2) if order_id % 5 == 0 else (1,):
            found.append(
                Delivery(
                    idempotency_key=idempotency_key(STORE, order_id, version),
                    store=STORE,
                    order_id=order_id,
                    version=version,
                    kind=delivery_kind(record.order_type),
                    record=record,
                )
            )
    return found[:rows]


async def print_claim_plan(db: Database, batch: int, now: datetime, lease: timedelta) -> None:
    """EXPLAIN ANALYZE of the statement `claim_due` runs, over the full backlog (rolled back)."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "SKIP LOCKED" in statement:
            statements.append((statement, parameters))

    async with db.engine.connect() as conn:
        event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
        try:
            await OutboxRepository(conn).claim_due(DESTINATION, batch, now, lease)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
        [(statement, parameters)] = statements
        plan = await conn.exec_driver_sql(f"EXPLAIN ANALYZE {statement}", parameters)
        print("\n".join(line for (line,) in plan))
        await conn.rollback()


async def measure(url: str, rows: int, batch: int, analyze: bool) -> None:
    """Fill the outbox of the empty database at `url`, print the claim's plan, drain the
    outbox and time the claims."""
    async with Database(url) as db:
        await db.upgrade()
        backlog = deliveries(rows)
        started = time.perf_counter()
        for page, offset in enumerate(range(0, len(backlog), PAGE)):
            async with db.transaction() as tx:
                await tx.outbox.enqueue(
                    [(DESTINATION, item) for item in backlog[offset : offset + PAGE]],
                    T0 + timedelta(seconds=page),
                )
        print(f"enqueued {rows:,} rows in {time.perf_counter() - started:.1f} s")
        if analyze:
            async with db.engine.begin() as conn:
                await conn.execute(text("ANALYZE outbox"))
        now = T0 + timedelta(days=1)
        lease = timedelta(minutes=5)
        await print_claim_plan(db, batch, now, lease)
        claim_seconds: list[float] = []
        last_version: dict[int, int] = {}
        delivered = 0
        while True:
            async with db.transaction() as tx:
                started = time.perf_counter()
                claimed = await tx.outbox.claim_due(DESTINATION, batch, now, lease)
                claim_seconds.append(time.perf_counter() - started)
                for row in claimed:
                    if last_version.get(row.order_id, 0) != row.version - 1:
                        raise SystemExit(f"order {row.order_id}: version out of order")
                    last_version[row.order_id] = row.version
                    await tx.outbox.mark_delivered(row.id, now)
            delivered += len(claimed)
            if not claimed:
                break
    tenth = max(1, len(claim_seconds) // 10)
    print(
        f"{'with' if analyze else 'without'} statistics: {delivered:,} rows in "
        f"{len(claim_seconds):,} claims of up to {batch}; claim_due total "
        f"{sum(claim_seconds):.2f} s, {delivered / sum(claim_seconds):,.0f} rows/s; ms per "
        f"claim: first tenth {statistics.mean(claim_seconds[:tenth]) * 1000:.2f}, last tenth "
        f"{statistics.mean(claim_seconds[-tenth:]) * 1000:.2f}"
    )


def main() -> None:
    """Run the measurement in a database created for it and dropped afterwards."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=50, help="claim_due limit")
    parser.add_argument("--analyze", action="store_true", help="ANALYZE the outbox first")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    name = f"b2bsync_claim_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(args.postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{args.postgres_url.rsplit('/', 1)[0]}/{name}"
        asyncio.run(measure(url, args.rows, args.batch, args.analyze))
    finally:
        with psycopg.connect(args.postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
