"""A kill between receipt and processing loses nothing: the intake runs in its own process and is
SIGKILLed after acknowledging callbacks it never processed; another process then finds every
acknowledged callback in the change feed, and a batch that dies after claiming rows only delays
them until its lease runs out."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2

from b2bsync.store import Database
from b2bsync.sync.webhooks.install import WebhookSecret, install_webhooks
from b2bsync.sync.webhooks.microbatch import BatchSettings, MicroBatcher, process_feed
from tests.conftest import quiet_config
from tests.integration.sync_support import Recorder, sqlite_db, sync_context  # noqa: F401
from tests.integration.webhook_support import (
    INTAKE_SECRET,
    delivered_current,
    feed_rows,
    healthy,
    open_rows,
    sandbox_truth,
    simulate,
    wait_for,
)
from tests.sandbox_server import RunningSandbox, free_port, run_sandbox

ROOT = Path(__file__).resolve().parents[2]
SECRET = WebhookSecret("X-B2BSync-Webhook-Secret", INTAKE_SECRET)


async def _webhook_stats(sandbox: RunningSandbox) -> dict[str, Any]:
    async with httpx2.AsyncClient(headers=sandbox.headers()) as http:
        response = await http.get(f"{sandbox.base_url}/__sandbox/stats")
    stats: dict[str, Any] = response.json()["webhooks"]
    return stats


async def test_a_killed_intake_loses_no_acknowledged_callback(
    sqlite_db: Database,  # noqa: F811
) -> None:
    recorder = Recorder()
    with run_sandbox(quiet_config()) as sandbox:
        async with sync_context(sandbox, sqlite_db, destinations=(recorder.configured(),)) as ctx:
            await MicroBatcher(ctx).poll_round()
            seeded = set(await sandbox_truth(sandbox))
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            # Starting the process does not block; only its end is awaited, with a bound.
            process = subprocess.Popen(  # noqa: ASYNC220
                [
                    sys.executable,
                    "-m",
                    "tests.integration.webhook_intake_process",
                    sqlite_db.url,
                    ctx.store,
                    SECRET.value,
                    str(port),
                ],
                cwd=ROOT,
            )
            try:
                await wait_for(lambda: healthy(base), limit_s=20)
                await install_webhooks(ctx.client, sqlite_db, ctx.store, base, SECRET)
                await simulate(sandbox, {"rate": 30, "duration": 1, "seed": 8})

                async def settled() -> bool:
                    stats = await _webhook_stats(sandbox)
                    return stats["pending"] == 0 and stats["in_flight"] == 0

                await wait_for(settled, limit_s=20)
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)
            stats = await _webhook_stats(sandbox)
            rows = await feed_rows(sqlite_db, ctx.store)
            truth = await sandbox_truth(sandbox)

            # A batch claims every row, then dies before acknowledging them.
            dying = BatchSettings(lease=timedelta(seconds=0.3))
            async with sqlite_db.transaction() as tx:
                claimed = await tx.feed.claim(ctx.store, 10_000, ctx.clock(), dying.lease)
            assert await process_feed(ctx) is None
            await wait_for(lambda: _lease_over(ctx.clock, claimed[-1].id, sqlite_db, ctx.store))
            summary = await process_feed(ctx)

    new = set(truth) - seeded
    assert new
    assert stats["delivered"] >= len(rows) > 0
    assert {row["order_id"] for row in rows} >= new
    assert all(row["processed_at"] is None for row in rows)
    assert len(claimed) == len(rows)
    assert summary is not None
    assert summary.rows == len(rows)
    assert await open_rows(sqlite_db, ctx.store) == 0
    assert delivered_current(recorder, truth)


async def _lease_over(clock: Any, row_id: int, db: Database, store: str) -> bool:
    rows = await feed_rows(db, store)
    row = next(row for row in rows if row["id"] == row_id)
    return bool(row["claimed_until"] <= clock())
