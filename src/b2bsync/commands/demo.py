"""`b2bsync demo`: what a new user sees first, with no store and no credentials: the sandbox store
with seeded history and live shoppers, b2bsync syncing it into a SQL database and a JSON Lines
file, and a live summary of what the sync does.

With the dashboard served, the demo installs the store's order webhooks pointing at the
dashboard's own intake, as `webhooks install` would: orders arrive by callback within a second,
and polling is the safety net, as in production. Without it (`--no-dashboard`) it polls."""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import signal
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx2
import structlog
import typer
import uvicorn
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from b2bsync.bigcommerce import BigCommerceClient, Family, GovernorRegistry
from b2bsync.commands.runtime import fail, open_database, out
from b2bsync.commands.webhooks import webhook_sync
from b2bsync.destinations import ConfiguredDestination, Route
from b2bsync.destinations.jsonl import JsonlDestination
from b2bsync.destinations.sql import SqlDestination
from b2bsync.observability import configure_logging
from b2bsync.sandbox.app import create_app
from b2bsync.sandbox.config import Plan, SandboxConfig
from b2bsync.sandbox.seed import build_world
from b2bsync.store.reports import LedgerCounts, ledger_counts
from b2bsync.sync import CallCounter, SyncContext, SyncSettings, run_forever
from b2bsync.sync.webhooks.install import install_webhooks, load_or_create_secret
from b2bsync.web import create_app as web_app
from b2bsync.web.dashboard import Dashboard, single_store
from b2bsync.web.serving import EmbeddedServer, bind

__all__ = ["DEMO_STORE_HASH", "demo", "next_steps"]

DEMO_STORE_HASH = "demo"
DEMO_DIR = Path(".b2bsync/demo")
DASHBOARD_PORT = 8000
_ERP_QUERY = "'select order_id, order_type, version from b2bsync_orders'"


@dataclass(frozen=True, slots=True)
class DemoFiles:
    """Where the demo keeps its ledger and what it delivered; emptied at every start."""

    root: Path

    @property
    def ledger_url(self) -> str:
        """The demo's ledger database."""
        return f"sqlite:///{self.root / 'ledger.db'}"

    @property
    def erp_url(self) -> str:
        """The `sql` destination's database, standing in for an ERP."""
        return f"sqlite:///{self.root / 'erp.db'}"

    @property
    def deliveries(self) -> Path:
        """The `jsonl` destination's file."""
        return self.root / "deliveries.jsonl"

    @property
    def webhook_secret(self) -> Path:
        """The secret the store's hooks send to the intake (mode 0600)."""
        return self.root / "webhook-secret.json"


def next_steps(base_url: str, token: str, files: DemoFiles) -> str:
    """The commands that show the demo store and the demo's ledger."""
    return "\n".join(
        [
            "",
            "Shoppers are ordering and buyers are paying invoices; b2bsync is syncing them.",
            "In another terminal, the store through b2bsync's own client:",
            f"  export BIGCOMMERCE_STORE_HASH={DEMO_STORE_HASH} BIGCOMMERCE_ACCESS_TOKEN={token}",
            f"  export BIGCOMMERCE_API_URL={base_url} B2B_API_URL={base_url}/b2b",
            "  .venv/bin/b2bsync api get /v2/orders -p sort=date_modified:desc -p limit=5",
            "  .venv/bin/b2bsync api get /v3/orders/metafields -p key=orderType -p limit=5",
            "  .venv/bin/b2bsync api get --b2b /ip/payments -p limit=5",
            "The ledger (what b2bsync decided) and the deliveries:",
            f"  export B2BSYNC_DATABASE_URL={files.ledger_url}",
            "  .venv/bin/b2bsync orders list --type invoice_payment",
            "  .venv/bin/b2bsync status --no-probe",
            f"  sqlite3 {files.root / 'erp.db'} {_ERP_QUERY}",
            f"  tail -f {files.deliveries}",
            "Ground truth (which orders are invoice payments):",
            f"  curl -s -H 'X-Auth-Token: {token}' {base_url}/__sandbox/orders",
            "Press Ctrl-C to stop.",
        ]
    )


class _SandboxThread:
    """The sandbox served by uvicorn on its own thread and event loop, so the store and the
    sync do not share a loop (as a real store and b2bsync share nothing)."""

    def __init__(self, config: SandboxConfig, port: int) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(
                create_app(build_world(config)),
                host="127.0.0.1",
                port=port,
                log_level="critical",
                lifespan="on",
            )
        )
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve()), name="sandbox", daemon=True
        )

    def start(self, timeout_s: float = 30.0) -> str | None:
        """Serve; the base URL once listening, None if it could not listen."""
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                return None
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Shut down gracefully."""
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _summary(
    counts: LedgerCounts,
    ctx: SyncContext,
    governors: GovernorRegistry,
    started: float,
    driven_by: str,
    *,
    running: bool = True,
) -> Group:
    table = Table(title="b2bsync demo: live summary", show_header=False, min_width=50)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("sync driven by", driven_by)
    table.add_row("online orders", str(counts.by_type["online_order"]))
    table.add_row("invoice payments", str(counts.by_type["invoice_payment"]))
    table.add_row("waiting for a signal", str(counts.by_state["pending_classification"]))
    table.add_row("held (no signal by the deadline)", str(counts.by_state["held"]))
    table.add_row("incomplete (status 0, never delivered)", str(counts.by_state["skipped"]))
    for name, states in counts.outbox.items():
        table.add_row(
            f"delivered to {name}",
            f"{states.get('delivered', 0)} (queued {states.get('pending', 0)}, "
            f"dead {states.get('dead', 0)})",
        )
    table.add_row("API calls", f"{ctx.calls.count} in {time.monotonic() - started:.0f} s")
    for snapshot in governors.snapshots():
        label = "store API" if snapshot.family is Family.STORE else "B2B Edition API"
        budget = "-" if snapshot.quota is None else f"{snapshot.left} of {snapshot.quota} left"
        table.add_row(f"rate budget, {label}", budget)
    return Group(table, Text("Ctrl-C stops." if running else "Stopped.", style="dim"))


def _progress_line(counts: LedgerCounts, ctx: SyncContext, started: float) -> str:
    """The live summary as one line, for output that is not a terminal (a log, a pipe)."""
    delivered = sum(states.get("delivered", 0) for states in counts.outbox.values())
    return (
        f"{time.monotonic() - started:.0f} s: {counts.by_type['online_order']} online orders, "
        f"{counts.by_type['invoice_payment']} invoice payments, "
        f"{counts.by_state['pending_classification']} waiting for a signal, "
        f"{delivered} deliveries, {ctx.calls.count} API calls"
    )


_LINE_EVERY_S = 10.0
"""How often the demo writes a progress line when its output is not a terminal."""


def _described(
    ctx: SyncContext, base_url: str, files: DemoFiles, interval_s: float, intake: str | None
) -> dict[str, Any]:
    """What the demo runs, for the dashboard's Settings page (the token is left out)."""
    settings = ctx.settings
    return {
        "started by": "b2bsync demo",
        "store": {"hash": ctx.store, "api_url": base_url, "b2b_api_url": f"{base_url}/b2b"},
        "sync": {
            "driven by": (
                f"webhooks to {intake}, micro-batched; the safety-net poll at the watchdog's "
                "interval"
                if intake
                else f"polling, a round every {interval_s:g} s"
            ),
            "history from": settings.start.isoformat() if settings.start else None,
            "re-checks": f"from {settings.recheck_base.total_seconds():g} s "
            f"up to {settings.recheck_cap.total_seconds():g} s",
            "classification deadline": f"{settings.classification_deadline.total_seconds():g} s",
            "unclassified policy": settings.policy.value,
        },
        "destinations": [
            {"name": "erp", "type": "sql", "url": files.erp_url},
            {"name": "jsonl", "type": "jsonl", "path": str(files.deliveries)},
        ],
    }


async def _serve_until(server: EmbeddedServer, sock: socket.socket, stop: asyncio.Event) -> None:
    """Serve the app on `sock` until `stop` is set."""
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    await serving


async def _sync_and_show(
    base_url: str,
    token: str,
    files: DemoFiles,
    interval_s: float,
    dashboard_socket: socket.socket | None,
) -> None:
    stop = asyncio.Event()
    db = await open_database(files.ledger_url)
    destinations = (
        ConfiguredDestination("erp", Route(), SqlDestination("erp", url=files.erp_url)),
        ConfiguredDestination("jsonl", Route(), JsonlDestination("jsonl", path=files.deliveries)),
    )
    governors = GovernorRegistry()
    counter = CallCounter()
    settings = SyncSettings(
        # The seeded history reaches ~90 days back; the sandbox's signals arrive within ~20 s.
        start=datetime.now(UTC) - timedelta(days=120),
        recheck_base=timedelta(seconds=5),
        recheck_cap=timedelta(seconds=30),
    )
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    started = time.monotonic()
    try:
        async with httpx2.AsyncClient(
            timeout=30, event_hooks={"request": [counter.on_request]}
        ) as http:
            client = BigCommerceClient(
                store_hash=DEMO_STORE_HASH,
                access_token=token,
                api_url=base_url,
                b2b_api_url=f"{base_url}/b2b",
                http_client=http,
                governors=governors,
            )
            ctx = SyncContext(
                store=DEMO_STORE_HASH,
                client=client,
                db=db,
                destinations=destinations,
                settings=settings,
                calls=counter,
            )
            server = None
            if dashboard_socket is None:
                driven_by = f"polling every {interval_s:g} s"
                syncing = asyncio.create_task(run_forever(ctx, interval_s, stop))
            else:
                dashboard_url = f"http://127.0.0.1:{dashboard_socket.getsockname()[1]}"
                secret = load_or_create_secret(files.webhook_secret)
                installed = await install_webhooks(client, db, ctx.store, dashboard_url, secret)
                intake, services = webhook_sync(ctx, secret)
                driven_by = "webhooks, polling as the safety net"
                dashboard = Dashboard(
                    db=db,
                    contexts=single_store(ctx),
                    governors=governors,
                    store=ctx.store,
                    described=_described(ctx, base_url, files, interval_s, installed.destination),
                )
                app = web_app(dashboard=dashboard, intakes=[intake], services=services)
                server = EmbeddedServer(uvicorn.Config(app, log_level="warning"))
                # The batcher and the watchdog run as the app's services: the sync stops with it.
                syncing = asyncio.create_task(_serve_until(server, dashboard_socket, stop))
            if out.is_terminal:
                with Live(console=out, auto_refresh=False) as live:
                    while not syncing.done():
                        counts = await ledger_counts(db, DEMO_STORE_HASH)
                        live.update(
                            _summary(counts, ctx, governors, started, driven_by), refresh=True
                        )
                        await asyncio.wait({syncing}, timeout=1.0)
                    counts = await ledger_counts(db, DEMO_STORE_HASH)
                    live.update(
                        _summary(counts, ctx, governors, started, driven_by, running=False),
                        refresh=True,
                    )
            else:
                while not syncing.done():
                    await asyncio.wait({syncing}, timeout=_LINE_EVERY_S)
                    counts = await ledger_counts(db, DEMO_STORE_HASH)
                    out.print(_progress_line(counts, ctx, started), highlight=False, soft_wrap=True)
                out.print("Stopped.", highlight=False)
            await syncing
    finally:
        for configured in destinations:
            await configured.destination.aclose()
        await db.close()


def demo(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port of the sandbox store.")
    ] = 8081,
    orders: Annotated[int, typer.Option("--orders", min=0, help="Orders of seeded history.")] = 500,
    rate: Annotated[
        float,
        typer.Option("--rate", min=0.0, help="Shopper and staff events per second (0: still)."),
    ] = 1.0,
    invoice_share: Annotated[
        float,
        typer.Option(
            "--invoice-share", min=0.0, max=1.0, help="Share of new orders that pay invoices."
        ),
    ] = 0.25,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated store.")] = 42,
    data_dir: Annotated[
        Path,
        typer.Option("--data-dir", help="Where the demo's ledger and deliveries go (emptied)."),
    ] = DEMO_DIR,
    interval: Annotated[
        float,
        typer.Option(
            "--interval",
            min=0.1,
            help="Seconds between sync rounds when polling (--no-dashboard); with the "
            "dashboard, webhooks drive the sync.",
        ),
    ] = 2.0,
    dashboard_port: Annotated[
        int,
        typer.Option(
            "--dashboard-port", min=0, max=65535, help="Port of the dashboard on 127.0.0.1."
        ),
    ] = DASHBOARD_PORT,
    dashboard: Annotated[
        bool, typer.Option("--dashboard/--no-dashboard", help="Serve the dashboard.")
    ] = True,
) -> None:
    """Run the sandbox with live shoppers, sync it and serve the dashboard on 127.0.0.1:8000.

    A live summary follows the sync. The sandbox is seeded with history; the sync writes a
    ledger, a `sql` and a `jsonl` destination under --data-dir. No credentials are needed."""
    configure_logging()
    # Only trouble is worth a line beside the live summary.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    token = secrets.token_hex(16)
    config = SandboxConfig(
        seed=seed, orders=orders, plan=Plan.STANDARD, store_hash=DEMO_STORE_HASH, token=token
    )
    files = DemoFiles(data_dir)
    # A new sandbox world each run: a ledger of an earlier run would describe other orders.
    shutil.rmtree(files.root, ignore_errors=True)
    files.root.mkdir(parents=True, exist_ok=True)
    dashboard_socket = None
    if dashboard:
        try:
            dashboard_socket = bind("127.0.0.1", dashboard_port)
        except OSError as error:
            raise fail(
                f"the dashboard could not listen on 127.0.0.1:{dashboard_port} "
                f"({error.strerror}); try --dashboard-port or --no-dashboard."
            ) from None
    sandbox = _SandboxThread(config, port)
    base_url = sandbox.start()
    if base_url is None:
        if dashboard_socket is not None:
            dashboard_socket.close()
        raise fail(f"the demo could not listen on 127.0.0.1:{port}; try --port.")
    try:
        if rate > 0:
            response = httpx2.post(
                f"{base_url}/__sandbox/simulate",
                headers={"X-Auth-Token": token},
                # A day is "until stopped" for a demo.
                json={"rate": rate, "duration": 86_400, "invoice_share": invoice_share},
                timeout=10,
            )
            response.raise_for_status()
        out.print(f"Sandbox store listening on {base_url}.", highlight=False)
        if dashboard_socket is not None:
            dashboard_url = f"http://127.0.0.1:{dashboard_socket.getsockname()[1]}"
            out.print(f"Dashboard: {dashboard_url}", highlight=False)
        out.print(next_steps(base_url, token, files), highlight=False, soft_wrap=True)
        asyncio.run(_sync_and_show(base_url, token, files, interval, dashboard_socket))
    finally:
        sandbox.stop()
