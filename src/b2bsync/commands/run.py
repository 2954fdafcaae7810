"""`b2bsync run --role web|worker|all`: the production entry point.

- `all`: one process does everything: for each store with a webhook secret (made by `webhooks
  install`) the intake-driven sync of `webhooks serve` (micro-batcher and watchdog), for the
  others a poll loop (`run_forever`); plus the web app.
- `web`: the web app only (intakes, push endpoint, dashboard); callbacks queue a worker job for
  their store. The sync runs in workers, so it needs PostgreSQL; without a configured store it
  serves the dashboard of the database alone.

Each store with a secret has its intake at `/webhooks/bigcommerce/{store_hash}`; with a single
store, `/webhooks/bigcommerce` too.
- `worker`: the procrastinate workers of `b2bsync worker`.
"""

from __future__ import annotations

import asyncio
import functools
from contextlib import AsyncExitStack
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.engine import make_url

from b2bsync.commands.runtime import (
    ConfigOption,
    dashboard_access_or_exit,
    fail,
    load_or_exit,
    open_fleet,
    out,
)
from b2bsync.commands.webhooks import (
    SecretDirOption,
    Service,
    make_intake,
    serve_web,
    webhook_secret,
    webhook_sync,
)
from b2bsync.commands.worker import ConcurrencyOption, HeartbeatOption, run_workers, worker_app
from b2bsync.config import Settings
from b2bsync.observability import configure_logging
from b2bsync.sync.fleet import Fleet
from b2bsync.sync.runner import run_forever
from b2bsync.sync.webhooks.install import DEFAULT_SECRET_DIR, WebhookSecret, secret_path
from b2bsync.sync.webhooks.intake import WebhookIntake
from b2bsync.web.access import Access
from b2bsync.web.dashboard import fleet_dashboard
from b2bsync.workers import WorkerApp

__all__ = ["Role", "run"]


class Role(StrEnum):
    """What this process does."""

    WEB = "web"
    WORKER = "worker"
    ALL = "all"


def _intake_secrets(fleet: Fleet, secret_dir: Path) -> dict[str, WebhookSecret]:
    """The webhook secret of every store for which `webhooks install` made one."""
    return {
        store: webhook_secret(store, secret_dir)
        for store in fleet.store_hashes
        if secret_path(store, secret_dir).is_file()
    }


async def _run_all(
    settings: Settings, access: Access, host: str, port: int, secret_dir: Path
) -> None:
    async with open_fleet(settings) as fleet, AsyncExitStack() as stack:
        secrets = _intake_secrets(fleet, secret_dir)
        intakes: list[WebhookIntake] = []
        services: list[Service] = []
        for store in fleet.store_hashes:
            ctx = await stack.enter_async_context(fleet.context(store))
            if store in secrets:
                intake, store_services = webhook_sync(
                    ctx, secrets[store], quota_share=settings.sync.webhook_quota_share
                )
                intakes.append(intake)
                services += store_services
            else:
                services.append(functools.partial(run_forever, ctx, settings.sync.poll_interval_s))
        out.print(
            f"b2bsync on http://{host}:{port}: syncing {len(fleet.stores)} store(s), "
            f"{len(intakes)} with the webhook intake",
            highlight=False,
        )
        dashboard = fleet_dashboard(fleet, access, settings)
        await serve_web(
            settings, intakes=intakes, services=services, dashboard=dashboard, host=host, port=port
        )


async def _run_web(
    settings: Settings, access: Access, jobs: WorkerApp, host: str, port: int, secret_dir: Path
) -> None:
    pending: set[asyncio.Task[Any]] = set()

    def queue_round(store: str) -> None:
        task = asyncio.create_task(jobs.defer_sync(store))
        pending.add(task)
        task.add_done_callback(pending.discard)

    async with open_fleet(settings, stores_required=False) as fleet, jobs.app.open_async():
        intakes = [
            make_intake(fleet.db, store, secret, functools.partial(queue_round, store))
            for store, secret in _intake_secrets(fleet, secret_dir).items()
        ]
        out.print(f"b2bsync web on http://{host}:{port}; workers do the sync", highlight=False)
        dashboard = fleet_dashboard(fleet, access, settings)
        await serve_web(
            settings, intakes=intakes, services=(), dashboard=dashboard, host=host, port=port
        )


def _web_jobs(settings: Settings) -> WorkerApp:
    """The job queue the web role hands store rounds to, in the PostgreSQL database; exit 2
    naming the database_url for another database."""
    backend = make_url(settings.database_url).get_backend_name()
    if backend != "postgresql":
        raise fail(
            f"database_url: `run --role web` needs PostgreSQL; the database_url is {backend} "
            "(on SQLite, `run --role all` serves the dashboard and syncs in one process)",
            2,
        )
    return worker_app(settings)


def run(
    role: Annotated[Role, typer.Option("--role", help="web, worker, or all (one process).")] = (
        Role.ALL
    ),
    host: Annotated[str, typer.Option(help="Interface the web app listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the web app listens on.")] = 8000,
    concurrency: ConcurrencyOption = 4,
    heartbeat_s: HeartbeatOption = 10.0,
    secret_dir: SecretDirOption = DEFAULT_SECRET_DIR,
    config: ConfigOption = None,
) -> None:
    """Run b2bsync: everything in one process (all), or the web app and workers apart."""
    settings = load_or_exit(config)
    configure_logging(json_lines=role is not Role.ALL)
    if role is Role.WORKER:
        asyncio.run(run_workers(worker_app(settings, heartbeat_s), concurrency))
        return
    access = dashboard_access_or_exit(host)
    if role is Role.WEB:
        asyncio.run(_run_web(settings, access, _web_jobs(settings), host, port, secret_dir))
    else:
        asyncio.run(_run_all(settings, access, host, port, secret_dir))
