"""Helpers of the scale-out tests: a multi-store configuration for a loopback sandbox, b2bsync
processes (`run --role all|web|worker`) on PostgreSQL, the sandbox's truth per store and what
reached the `sql` destination."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import psycopg

from b2bsync.domain.order_type import OrderType
from b2bsync.store import Database
from b2bsync.workers.schema import apply_job_schema
from tests.integration.sync_support import expected_type
from tests.sandbox_server import RunningSandbox

INCOMPLETE = 0
CLI = [sys.executable, "-c", "from b2bsync.cli import main; main()"]


async def upgrade(url: str) -> None:
    """What `b2bsync db upgrade` does: b2bsync's tables and procrastinate's."""
    async with Database(url) as db:
        await db.upgrade()
    await apply_job_schema(url)


def store_hashes(sandbox: RunningSandbox) -> tuple[str, ...]:
    """Every store the sandbox serves."""
    return sandbox.config.store_hashes


def write_config(
    path: Path,
    sandbox: RunningSandbox,
    database_url: str,
    *,
    stores: tuple[str, ...] | None = None,
    poll_interval_s: float = 1.0,
    page_size: int = 250,
    store_lines: tuple[str, ...] = (),
) -> Path:
    """A `b2bsync.toml` with one `[[stores]]` table per sandbox store (tokens from the
    environment, as in production; `store_lines` added to each), the `sql` destination in the
    same database."""
    lines = [
        f'database_url = "{database_url}"',
        "[sync]",
        f"poll_interval_s = {poll_interval_s}",
        "delivery_lease_s = 3",
        f"page_size = {page_size}",
        "backfill_days = 3650",
        "[[destinations]]",
        'name = "sql"',
        'type = "sql"',
        f'url = "{database_url}"',
    ]
    for store in stores or store_hashes(sandbox):
        lines += [
            "[[stores]]",
            f'hash = "{store}"',
            'access_token = "${SANDBOX_TOKEN}"',
            f'api_url = "{sandbox.base_url}"',
            f'b2b_api_url = "{sandbox.base_url}/b2b"',
            *store_lines,
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Processes:
    """b2bsync processes started by a test; all are stopped when it ends."""

    config: Path
    sandbox: RunningSandbox
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        """`b2bsync ARGS --config CONFIG` in its own process (logs to a file beside it)."""
        env = {
            **os.environ,
            "SANDBOX_TOKEN": self.sandbox.config.token,
            "B2BSYNC_WORKER_HEARTBEAT_S": "0.5",
        }
        log = self.config.with_name(f"process-{len(self.started)}.log").open("wb")
        process = subprocess.Popen(
            [*CLI, *args, "--config", str(self.config)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.config.parent,
        )
        self.started.append(process)
        return process

    def stop(self) -> None:
        """SIGTERM every process still running, SIGKILL what does not stop."""
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def processes(config: Path, sandbox: RunningSandbox) -> Iterator[Processes]:
    """Start processes with `.start(...)`; they are stopped when the block ends."""
    running = Processes(config, sandbox)
    try:
        yield running
    finally:
        running.stop()


def _headers(sandbox: RunningSandbox, store: str) -> dict[str, str]:
    return {**sandbox.headers(), "X-Store-Hash": store}


async def simulate_all(
    sandbox: RunningSandbox, stores: tuple[str, ...], *, rate: float, duration: float
) -> None:
    """Start a simulation of shoppers and invoice payments on every store (not waiting)."""
    async with httpx2.AsyncClient(base_url=f"{sandbox.base_url}/__sandbox") as admin:
        for store in stores:
            spec = {"rate": rate, "duration": duration, "invoice_share": 0.3, "seed": 11}
            response = await admin.post("/simulate", json=spec, headers=_headers(sandbox, store))
            response.raise_for_status()


async def simulations_done(sandbox: RunningSandbox, stores: tuple[str, ...]) -> bool:
    """Whether every store's simulation has ended."""
    async with httpx2.AsyncClient(base_url=f"{sandbox.base_url}/__sandbox") as admin:
        for store in stores:
            progress = (await admin.get("/simulate", headers=_headers(sandbox, store))).json()
            if progress["state"] == "running":
                return False
    return True


async def sandbox_orders(
    sandbox: RunningSandbox, stores: tuple[str, ...]
) -> dict[tuple[str, int], dict[str, Any]]:
    """The sandbox's ground truth of every order of every store, by (store, order id)."""
    truth: dict[tuple[str, int], dict[str, Any]] = {}
    async with httpx2.AsyncClient() as http:
        for store in stores:
            response = await http.get(
                f"{sandbox.base_url}/__sandbox/orders", headers=_headers(sandbox, store)
            )
            response.raise_for_status()
            truth |= {(store, row["id"]): row for row in response.json()}
    return truth


async def expected_deliveries(
    sandbox: RunningSandbox, stores: tuple[str, ...]
) -> dict[tuple[str, int], OrderType]:
    """Every order the sandbox says must reach the destination, with its type (status 0,
    Incomplete, is never delivered)."""
    truth = await sandbox_orders(sandbox, stores)
    return {
        key: expected_type(row["kind"])
        for key, row in truth.items()
        if row["status_id"] != INCOMPLETE
    }


async def ledger_keys(database_url: str) -> set[tuple[str, int]]:
    """Every (store, order id) in the ledger."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        rows = await (await conn.execute("SELECT store, order_id FROM orders")).fetchall()
    return {(str(store), int(order_id)) for store, order_id in rows}


async def sql_rows(database_url: str) -> list[tuple[str, int, str]]:
    """Every (store, order id, table) row the `sql` destination wrote (none before it ran)."""
    query = (
        "SELECT store, order_id, 'orders' FROM b2bsync_orders "
        "UNION ALL SELECT store, order_id, 'payments' FROM b2bsync_payments"
    )
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        try:
            rows = await (await conn.execute(query)).fetchall()
        except psycopg.errors.UndefinedTable:
            return []
    return [(str(store), int(order_id), str(table)) for store, order_id, table in rows]


async def open_outbox_rows(database_url: str) -> int:
    """Outbox rows not delivered (pending or dead)."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        row = await (
            await conn.execute("SELECT count(*) FROM outbox WHERE state <> 'delivered'")
        ).fetchone()
    return int(row[0]) if row else 0


def _table_of(order_type: OrderType) -> str:
    return "payments" if order_type is OrderType.INVOICE_PAYMENT else "orders"


async def wait_until_delivered(
    sandbox: RunningSandbox,
    stores: tuple[str, ...],
    database_url: str,
    limit_s: float,
    watched: list[subprocess.Popen[bytes]] | None = None,
) -> dict[tuple[str, int], OrderType]:
    """Wait until every expected order of every store is in the destination; returns what
    was expected. Fails early when a watched process died."""
    deadline = time.monotonic() + limit_s
    while True:
        for process in watched or []:
            assert process.poll() is None, f"process {process.args} exited {process.returncode}"
        expected = await expected_deliveries(sandbox, stores)
        rows = await sql_rows(database_url)
        arrived = {(store, order_id) for store, order_id, _ in rows} >= set(expected)
        if arrived and await open_outbox_rows(database_url) == 0:
            return expected
        assert time.monotonic() < deadline, (
            f"{len(set(expected) - {(s, o) for s, o, _ in rows})} orders not delivered "
            f"within {limit_s} s"
        )
        await asyncio.sleep(0.5)


async def assert_delivered_exactly_once(
    expected: dict[tuple[str, int], OrderType], database_url: str
) -> None:
    """Each expected order is in the destination once, in the table of its type, and nothing
    else is; the outbox has nothing left to deliver; the ledger has every sandbox order (status
    0 too)."""
    rows = await sql_rows(database_url)
    keys = [(store, order_id) for store, order_id, _ in rows]
    assert len(keys) == len(set(keys)), "an order is in the destination twice"
    assert set(keys) == set(expected)
    for store, order_id, table in rows:
        assert table == _table_of(expected[(store, order_id)]), (store, order_id, table)
    assert await open_outbox_rows(database_url) == 0
    stores = {store for store, _ in expected}
    assert {key for key in await ledger_keys(database_url) if key[0] in stores} >= set(expected)


async def throttled(sandbox: RunningSandbox) -> int:
    """429s the sandbox answered so far (all stores)."""
    async with httpx2.AsyncClient() as http:
        response = await http.get(f"{sandbox.base_url}/__sandbox/stats", headers=sandbox.headers())
    return int(response.json()["throttled"])
