"""Steady state: time from order creation to delivery in the `sql` destination, and API calls
per order, under a steady stream of orders from the sandbox simulator, with webhooks or with
polling only.

The sandbox runs in its own process (its own CPU, like a real store) and calls b2bsync's intake
over loopback. With `--mode webhooks` b2bsync runs as `b2bsync webhooks serve` does: intake,
micro-batcher (one incremental scan per burst), safety-net poll, watchdog, delivery to a `sql`
destination (SQLite). With `--mode polling` no webhook is installed and the same batcher only
polls, every `--poll-interval` seconds (`b2bsync sync`'s default is 30 s).
Latency runs from the order's creation in the sandbox (or from when its `orderType` metafield
appeared, if later: time deliberately held for classification is excluded) to the moment the
outbox recorded the `sql` destination's commit. Calls are every request b2bsync sent after the
initial backfill, divided by the orders created.

    .venv/bin/python benchmarks/webhook_latency.py [--orders-per-second 20] [--duration 60]
        [--plan standard] [--metafield-delay-max 0.5] [--mode webhooks|polling]
        [--poll-interval 30] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx2
import uvicorn
from sqlalchemy import func, select

from b2bsync.bigcommerce import Family
from b2bsync.destinations import ConfiguredDestination, Route, SqlDestination
from b2bsync.domain.sync_state import SyncState
from b2bsync.observability import configure_logging
from b2bsync.sandbox.app import create_app as create_sandbox
from b2bsync.sandbox.config import DelayRange, Plan, SandboxConfig
from b2bsync.sandbox.seed import build_world
from b2bsync.sandbox.simulator import STAFF_ACTION_SHARE
from b2bsync.sandbox.world import StoreState
from b2bsync.store import Database, LedgerQuery
from b2bsync.store.schema import outbox
from b2bsync.sync import CallCounter, SyncContext
from b2bsync.sync.webhooks.install import WebhookSecret, install_webhooks
from b2bsync.sync.webhooks.intake import IntakeSettings, WebhookIntake
from b2bsync.sync.webhooks.microbatch import MicroBatcher
from b2bsync.sync.webhooks.watchdog import Watchdog
from b2bsync.web import create_app
from harness import B2B_PATH, STORE, TOKEN, api_client, free_port

SECRET = WebhookSecret("X-B2BSync-Webhook-Secret", "bench-secret-0123456789abcdef")
TARGET_P50_S = 1.0
TARGET_P99_S = 3.0
TARGET_CALLS_PER_ORDER = 0.2


class _Clock:
    """Wall-clock moments (the sandbox's own dates have one-second resolution, too coarse for
    sub-second latencies) at which orders were created and got their orderType metafield."""

    def __init__(self) -> None:
        self.created: dict[int, float] = {}
        self.classified: dict[int, float] = {}
        self.lock = threading.Lock()

    def install(self) -> None:
        """Record the moments as the sandbox emits the matching events."""
        emit = StoreState.emit

        def recording(state: StoreState, scope: str, data: dict[str, Any], now: datetime) -> None:
            moment = time.time()
            with self.lock:
                if scope == "store/order/created":
                    self.created.setdefault(int(data["id"]), moment)
                elif scope == "store/order/metafield/created":
                    self.classified.setdefault(int(data["resource_id"]), moment)
            emit(state, scope, data, now)

        StoreState.emit = recording  # type: ignore[method-assign]

    def ready(self) -> dict[int, float]:
        """Per order, when it became classifiable: created and its metafield present."""
        with self.lock:
            return {
                order_id: max(at, self.classified.get(order_id, at))
                for order_id, at in self.created.items()
            }


def _sandbox_process(config: SandboxConfig, port: int, conn: Connection) -> None:
    """The sandbox server; answers `conn` with the orders' ready times when asked."""
    clock = _Clock()
    clock.install()
    world = build_world(config)
    server = uvicorn.Server(
        uvicorn.Config(create_sandbox(world), host="127.0.0.1", port=port, log_level="warning")
    )

    def answer() -> None:
        while conn.recv() == "times":
            conn.send(clock.ready())

    threading.Thread(target=answer, daemon=True).start()
    server.run()


async def _wait(predicate: Callable[[], Any], limit_s: float, what: str) -> None:
    deadline = time.monotonic() + limit_s
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def _delivered(db: Database) -> dict[int, datetime]:
    """First confirmed delivery to `sql` per order."""
    async with db.transaction(readonly=True) as tx:
        rows = await tx.connection.execute(
            select(outbox.c.order_id, func.min(outbox.c.delivered_at))
            .where(outbox.c.destination == "sql", outbox.c.delivered_at.is_not(None))
            .group_by(outbox.c.order_id)
        )
        return {int(order_id): at for order_id, at in rows}


async def _undelivered(db: Database) -> int:
    async with db.transaction(readonly=True) as tx:
        return int(
            await tx.connection.scalar(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.destination == "sql", outbox.c.delivered_at.is_(None))
            )
            or 0
        )


async def _pending(db: Database) -> int:
    async with db.transaction(readonly=True) as tx:
        filters = LedgerQuery(store=STORE, sync_state=SyncState.PENDING_CLASSIFICATION)
        return (await tx.ledger.list_orders(filters, page_size=1)).total


def _max_in_window(moments: list[float], window_s: float) -> int:
    """The most requests sent within any `window_s` seconds (moments sorted)."""
    most, start = 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= window_s:
            start += 1
        most = max(most, end - start + 1)
    return most


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def run(
    args: argparse.Namespace, base_url: str, conn: Connection, workdir: Path
) -> dict[str, Any]:
    """Backfill, install the hook, simulate, wait for delivery, measure."""
    db = Database(f"sqlite:///{workdir}/b2bsync.db")
    await db.upgrade()
    sql = SqlDestination("sql", url=f"sqlite:///{workdir}/erp.db")
    counter = CallCounter()
    sent_at: dict[Family, list[float]] = {Family.STORE: [], Family.B2B: []}

    async def stamp(request: httpx2.Request) -> None:
        family = Family.B2B if B2B_PATH in request.url.path else Family.STORE
        sent_at[family].append(time.monotonic())

    async with httpx2.AsyncClient(
        event_hooks={"request": [counter.on_request, stamp]}, timeout=30
    ) as http:
        client = api_client(base_url, http)
        ctx = SyncContext(
            store=STORE,
            client=client,
            db=db,
            destinations=(ConfiguredDestination("sql", Route(), sql),),
            calls=counter,
        )
        port = free_port()
        webhooks = args.mode == "webhooks"
        watchdog = Watchdog(client, db, STORE)
        batcher = MicroBatcher(
            ctx,
            poll_interval=watchdog.poll_interval if webhooks else lambda: args.poll_interval,
        )
        intake = WebhookIntake(
            db, IntakeSettings(store=STORE, secret=SECRET.value), on_accepted=batcher.wake
        )
        if webhooks:
            await install_webhooks(client, db, STORE, f"http://127.0.0.1:{port}", SECRET)
            app = create_app(
                intakes=[intake], services=(batcher.run, batcher.spending(watchdog.run))
            )
        else:
            app = create_app(services=(batcher.run,))
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        serving = asyncio.create_task(server.serve())
        try:
            await _wait(
                lambda: batcher.polls >= 1 and (watchdog.last is not None or not webhooks),
                300,
                "backfill",
            )
            conn.send("times")
            seeded = set(conn.recv())
            calls_before = counter.count
            steady_from = time.monotonic()
            rate = args.orders_per_second / (1 - STAFF_ACTION_SHARE)
            async with httpx2.AsyncClient(
                base_url=f"{base_url}/__sandbox", headers={"X-Auth-Token": TOKEN}
            ) as admin:
                spec = {"rate": rate, "duration": args.duration, "seed": args.seed}
                (await admin.post("/simulate", json=spec)).raise_for_status()
                started = time.monotonic()

                async def finished() -> bool:
                    return bool((await admin.get("/simulate")).json()["state"] != "running")

                await _wait(finished, args.duration + 60, "the simulation")
                elapsed = time.monotonic() - started
            conn.send("times")
            ready: dict[int, float] = conn.recv()
            new = {oid: at for oid, at in ready.items() if oid not in seeded}
            # Polling only: the orders of the last seconds are seen by the next poll.
            polls_at_end = batcher.polls

            async def drained() -> bool:
                if not webhooks and batcher.polls <= polls_at_end:
                    return False
                async with db.transaction(readonly=True) as tx:
                    unread = await tx.feed.pending_count(STORE)
                return unread == 0 and await _undelivered(db) == 0

            await _wait(drained, 120 + args.poll_interval, "delivery")
            # Orders whose metafield came after the poll that read them wait for a re-check;
            # give them up to two polls, and report any still waiting.
            pending_at_end = await _pending(db)
            deadline = time.monotonic() + 2 * args.poll_interval
            while pending_at_end and not webhooks and time.monotonic() < deadline:
                await asyncio.sleep(1.0)
                pending_at_end = await _pending(db)
            await asyncio.sleep(1.0)
            calls = counter.count - calls_before
            delivered = await _delivered(db)
        finally:
            server.should_exit = True
            await serving
            await sql.aclose()
            await db.close()
    latencies = [
        max(0.0, delivered[oid].timestamp() - at) for oid, at in new.items() if oid in delivered
    ]
    if not latencies:
        raise RuntimeError("no order was delivered")
    share, b2b_share = batcher.quota, batcher.b2b_quota
    steady = {
        family: [at for at in moments if at >= steady_from] for family, moments in sent_at.items()
    }
    return {
        "quota_share": share.share,
        "quota": f"{share.quota} per {share.window_s:.0f} s",
        "share_calls_per_window": round(share.allowed, 1),
        "max_calls_in_any_window": _max_in_window(steady[Family.STORE], share.window_s),
        "b2b_quota": f"{b2b_share.quota} per {b2b_share.window_s:.0f} s",
        "b2b_share_calls_per_window": round(b2b_share.allowed, 1),
        "b2b_max_calls_in_any_window": _max_in_window(steady[Family.B2B], b2b_share.window_s),
        "mode": args.mode,
        "orders": len(new),
        "delivered": len(latencies),
        "not_delivered": len(new) - len(latencies),
        "not_delivered_note": "status 0 (Incomplete) orders are tracked, never delivered",
        "pending_at_end": pending_at_end,
        "orders_per_s": round(len(new) / elapsed, 1),
        "p50_s": round(statistics.median(latencies), 3),
        "p99_s": round(_percentile(latencies, 0.99), 3),
        "max_s": round(max(latencies), 3),
        "calls": calls,
        "calls_per_order": round(calls / len(new), 3),
        "batches": batcher.batches,
        "polls": batcher.polls,
        "webhooks": {verdict.value: n for verdict, n in intake.counters.items()},
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Start the sandbox process, run the measurement, stop the sandbox."""
    delay = DelayRange(0.0, args.metafield_delay_max)
    config = SandboxConfig(
        seed=args.seed,
        orders=args.history,
        plan=Plan(args.plan),
        store_hash=STORE,
        token=TOKEN,
        metafield_delay=delay,
        b2b_record_delay=delay,
    )
    port = free_port()
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_sandbox_process, args=(config, port, child), daemon=True)
    process.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx2.get(f"{base_url}/__sandbox/stats", headers={"X-Auth-Token": TOKEN})
                break
            except httpx2.TransportError:
                if time.monotonic() > deadline or not process.is_alive():
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.05)
        with tempfile.TemporaryDirectory() as workdir:
            return asyncio.run(run(args, base_url, parent, Path(workdir)))
    finally:
        process.terminate()
        process.join(timeout=10)


def main() -> None:
    """Parse arguments, measure, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders-per-second", type=float, default=20.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--history", type=int, default=500, help="Orders seeded before the run.")
    parser.add_argument("--plan", default="standard")
    parser.add_argument("--metafield-delay-max", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--mode", choices=("webhooks", "polling"), default="webhooks")
    parser.add_argument("--poll-interval", type=float, default=30.0)
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    args = parser.parse_args()
    configure_logging()
    result = measure(args)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['orders']} orders at {result['orders_per_s']}/s, "
        f"{result['delivered']} delivered to sql"
    )
    print(
        f"creation -> sql delivery: p50 {result['p50_s']} s (target < {TARGET_P50_S}), "
        f"p99 {result['p99_s']} s (target < {TARGET_P99_S}), max {result['max_s']} s"
    )
    print(
        f"API calls: {result['calls']} = {result['calls_per_order']} per order "
        f"(target <= {TARGET_CALLS_PER_ORDER}); {result['batches']} batches, "
        f"{result['polls']} polls; webhooks {result['webhooks']}"
    )
    print(
        f"most requests in any window: store API {result['max_calls_in_any_window']} "
        f"(share {result['share_calls_per_window']:g} per {result['quota'].split(' per ')[1]}), "
        f"B2B Edition {result['b2b_max_calls_in_any_window']} "
        f"(share {result['b2b_share_calls_per_window']:g} per "
        f"{result['b2b_quota'].split(' per ')[1]})"
    )


if __name__ == "__main__":
    main()
