"""`b2bsync worker`: a scale-out worker running the sync services as procrastinate jobs on
PostgreSQL; start as many as the stores need (see docs/deploy.md)."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Annotated

import typer

from b2bsync.commands.runtime import ConfigOption, fail, load_or_exit, open_fleet
from b2bsync.config import Settings
from b2bsync.observability import configure_logging
from b2bsync.workers import WorkerApp, WorkerSettings, build_worker_app

__all__ = ["ConcurrencyOption", "HeartbeatOption", "run_workers", "worker", "worker_app"]

ConcurrencyOption = Annotated[
    int,
    typer.Option("--concurrency", min=1, max=64, help="Jobs (store rounds) run at once."),
]
HeartbeatOption = Annotated[
    float,
    typer.Option(
        "--heartbeat-s",
        envvar="B2BSYNC_WORKER_HEARTBEAT_S",
        min=0.1,
        help="Seconds between heartbeats; a worker silent 3 heartbeats is dead and its jobs "
        "are queued again.",
    ),
]


def worker_app(settings: Settings, heartbeat_s: float = 10.0) -> WorkerApp:
    """The worker app of the configured PostgreSQL database; exit 2 for another database."""
    pacing = WorkerSettings(
        poll_interval_s=settings.sync.poll_interval_s,
        heartbeat_s=heartbeat_s,
        stalled_after_s=3 * heartbeat_s,
    )
    try:
        return build_worker_app(settings.database_url, lambda: open_fleet(settings), pacing)
    except ValueError as error:
        raise fail(f"database_url: {error}", 2) from None


async def run_workers(app: WorkerApp, concurrency: int) -> None:
    """Check that the job queue exists, then work until SIGINT/SIGTERM."""
    async with app.app.open_async():
        ready = await app.app.check_connection_async()
    if not ready:
        raise fail("the job queue tables are missing: run `b2bsync db upgrade`")
    await app.run(concurrency=concurrency, name=f"{socket.gethostname()}:{os.getpid()}")


def worker(
    concurrency: ConcurrencyOption = 4,
    heartbeat_s: HeartbeatOption = 10.0,
    config: ConfigOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs.")] = False,
) -> None:
    """Run sync jobs for every configured store on PostgreSQL, alongside other workers."""
    settings = load_or_exit(config)
    configure_logging(debug=verbose, json_lines=True)
    asyncio.run(run_workers(worker_app(settings, heartbeat_s), concurrency))
