"""`b2bsync webhooks install|list|uninstall|serve`: BigCommerce hooks calling b2bsync's intake,
and the process that receives them (intake, micro-batcher, safety-net poll, watchdog)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx2
import typer
from pydantic import SecretStr
from rich.markup import escape
from rich.table import Table

from b2bsync.bigcommerce import BigCommerceClient, BigCommerceError
from b2bsync.commands.runtime import (
    ConfigOption,
    JsonOption,
    dashboard_access_or_exit,
    fail,
    load_or_exit,
    open_database,
    out,
    store_or_exit,
    sync_context,
)
from b2bsync.config import ConfigError, Settings, StoreEntry
from b2bsync.observability import configure_logging
from b2bsync.store import Database
from b2bsync.sync.context import SyncContext
from b2bsync.sync.webhooks.install import (
    DEFAULT_SECRET_DIR,
    SecretFileError,
    WebhookSecret,
    install_webhooks,
    intake_url,
    list_webhooks,
    load_or_create_secret,
    secret_path,
    uninstall_webhooks,
)
from b2bsync.sync.webhooks.intake import IntakeSettings, WebhookIntake
from b2bsync.sync.webhooks.microbatch import BatchSettings, MicroBatcher
from b2bsync.sync.webhooks.quota import DEFAULT_SHARE
from b2bsync.sync.webhooks.watchdog import Watchdog
from b2bsync.web import create_app
from b2bsync.web.dashboard import Dashboard, single_store
from b2bsync.web.inbound import inbound_router
from b2bsync.web.serving import serve_app

PUSH_TOKEN_ENV = "B2BSYNC_PUSH_TOKEN"  # noqa: S105 (a variable name, not a secret)
"""Bearer token of `POST /push/{kind}`; without it the push endpoint is not served."""
SIGNING_SECRET_ENV = "BIGCOMMERCE_CLIENT_SECRET"  # noqa: S105 (a variable name)
"""The app's client secret; with it, callbacks must also carry a valid Standard Webhooks
signature."""

__all__ = [
    "Service",
    "make_intake",
    "serve_web",
    "webhook_secret",
    "webhook_sync",
    "webhooks_app",
]

Service = Callable[[], Coroutine[Any, Any, None]]
"""A long-running coroutine the web app starts and stops with itself."""

webhooks_app = typer.Typer(
    help="Install b2bsync's BigCommerce webhooks and serve their intake.", no_args_is_help=True
)

SecretDirOption = Annotated[
    Path,
    typer.Option(
        "--secret-dir",
        envvar="B2BSYNC_SECRET_DIR",
        help="Where the webhook secret file (mode 0600) is kept.",
        file_okay=False,
    ),
]


def webhook_secret(store: str, directory: Path) -> WebhookSecret:
    """The store's webhook secret (created on first use); exit 2 when its file is unusable."""
    try:
        return load_or_create_secret(secret_path(store, directory))
    except (SecretFileError, OSError) as error:
        raise fail(str(error), 2) from None


StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        # typer renders help as rich markup, where [stores] would be a tag.
        help=escape(
            "The store hash of a [[stores]] entry (default: the first); its hooks call its "
            "own intake, URL/webhooks/bigcommerce/HASH."
        ),
    ),
]


def _store_entry(settings: Settings, store: str | None) -> StoreEntry:
    """The store `--store` names (else the first configured); exit 2 naming a bad one."""
    try:
        entries = settings.store_entries()
    except ConfigError as error:
        raise fail(str(error), 2) from None
    if store is None:
        return entries[0]
    for entry in entries:
        if entry.store_hash == store:
            return entry
    known = ", ".join(entry.store_hash for entry in entries)
    raise fail(f"--store {store} is not a configured store; expected one of {known}", 2)


@asynccontextmanager
async def _client_and_db(
    settings: Settings, entry: StoreEntry
) -> AsyncIterator[tuple[BigCommerceClient, Database]]:
    database = await open_database(settings.database_url)
    try:
        async with httpx2.AsyncClient(timeout=entry.connection.timeout_s) as http:
            client = BigCommerceClient.from_settings(
                entry.connection, http_client=http, rate_budget=entry.rate_budget
            )
            yield client, database
    finally:
        await database.close()


@webhooks_app.command("install")
def install(
    url: Annotated[
        str, typer.Option("--url", help="Public base URL of this b2bsync (HTTPS in production).")
    ],
    store_hash: StoreOption = None,
    secret_dir: SecretDirOption = DEFAULT_SECRET_DIR,
    config: ConfigOption = None,
) -> None:
    """Create the order hooks calling this b2bsync; re-running changes nothing.

    The hooks call URL/webhooks/bigcommerce (with `--store` or several stores,
    URL/webhooks/bigcommerce/HASH)."""
    configure_logging()
    settings = load_or_exit(config)
    entry = _store_entry(settings, store_hash)
    store = entry.store_hash
    secret = webhook_secret(store, secret_dir)
    per_store = store_hash is not None or len(settings.store_entries()) > 1

    async def run() -> None:
        async with _client_and_db(settings, entry) as (client, db):
            result = await install_webhooks(client, db, store, url, secret, per_store=per_store)
        out.print(
            f"{result.destination}: created {list(result.created)}, "
            f"updated {list(result.updated)}, unchanged {list(result.unchanged)}",
            highlight=False,
        )

    try:
        asyncio.run(run())
    except BigCommerceError as error:
        raise fail(str(error)) from None


@webhooks_app.command("list")
def list_(
    as_json: JsonOption = False, store_hash: StoreOption = None, config: ConfigOption = None
) -> None:
    """Show the store's hooks (of this API account), marking b2bsync's."""
    configure_logging()
    settings = load_or_exit(config)
    entry = _store_entry(settings, store_hash)
    store = entry.store_hash

    async def run() -> None:
        async with _client_and_db(settings, entry) as (client, db):
            hooks = await list_webhooks(client)
            async with db.transaction(readonly=True) as tx:
                installation = await tx.webhooks.installation(store)
        ours = installation.destination if installation is not None else None
        rows = [
            {
                "id": hook.id,
                "scope": hook.scope,
                "destination": hook.destination,
                "is_active": hook.is_active,
                "b2bsync": hook.destination == ours,
            }
            for hook in hooks
        ]
        if as_json:
            out.print_json(json.dumps(rows))
            return
        table = Table("id", "scope", "destination", "active", "b2bsync")
        for row in rows:
            table.add_row(
                str(row["id"]),
                str(row["scope"]),
                str(row["destination"]),
                "yes" if row["is_active"] else "no",
                "yes" if row["b2bsync"] else "",
            )
        out.print(table)

    try:
        asyncio.run(run())
    except BigCommerceError as error:
        raise fail(str(error)) from None


@webhooks_app.command("uninstall")
def uninstall(
    url: Annotated[
        str | None, typer.Option("--url", help="Remove the hooks calling this URL instead.")
    ] = None,
    store_hash: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Delete b2bsync's hooks (the secret file is kept for a later install)."""
    configure_logging()
    settings = load_or_exit(config)
    entry = _store_entry(settings, store_hash)
    store = entry.store_hash

    async def run() -> None:
        async with _client_and_db(settings, entry) as (client, db):
            deleted = await uninstall_webhooks(client, db, store, url)
        out.print(f"deleted hooks {deleted}" if deleted else "no b2bsync hook to delete")

    try:
        asyncio.run(run())
    except BigCommerceError as error:
        raise fail(str(error)) from None


def make_intake(
    db: Database, store: str, secret: WebhookSecret, on_accepted: Callable[[], None] | None
) -> WebhookIntake:
    """The intake of `store`'s callbacks (signed too when BIGCOMMERCE_CLIENT_SECRET is set)."""
    return WebhookIntake(
        db,
        IntakeSettings(
            store=store,
            secret=secret.value,
            header=secret.header,
            signing_secret=os.environ.get(SIGNING_SECRET_ENV) or None,
        ),
        on_accepted=on_accepted,
    )


def webhook_sync(
    ctx: SyncContext, secret: WebhookSecret, *, quota_share: float = DEFAULT_SHARE
) -> tuple[WebhookIntake, list[Service]]:
    """The intake and the sync it drives for one store: micro-batches on callbacks, the
    safety-net poll at the interval the watchdog sets, and delivery, within `quota_share` of
    the store API quota."""
    watchdog = Watchdog(ctx.client, ctx.db, ctx.store)
    batcher = MicroBatcher(
        ctx,
        settings=BatchSettings(quota_share=quota_share),
        poll_interval=watchdog.poll_interval,
    )
    intake = make_intake(ctx.db, ctx.store, secret, batcher.wake)
    return intake, [batcher.run, batcher.spending(watchdog.run)]


async def serve_web(
    settings: Settings,
    *,
    intakes: Sequence[WebhookIntake],
    services: Sequence[Service],
    dashboard: Dashboard,
    host: str,
    port: int,
) -> None:
    """Serve `create_app` with the intakes, services and dashboard, plus the ERP push endpoint
    when B2BSYNC_PUSH_TOKEN is set, until SIGINT/SIGTERM."""
    app = create_app(intakes=intakes, services=services, dashboard=dashboard)
    push_token = os.environ.get(PUSH_TOKEN_ENV)
    if push_token:
        app.include_router(inbound_router(lambda: sync_context(settings), SecretStr(push_token)))
    await serve_app(app, host, port)


@webhooks_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    secret_dir: SecretDirOption = DEFAULT_SECRET_DIR,
    config: ConfigOption = None,
) -> None:
    """Serve the webhook intake and the dashboard, and run the sync the webhooks drive.

    The intake is POST /webhooks/bigcommerce; the sync runs micro-batches on callbacks, the
    safety-net poll at the interval the watchdog sets, and delivery. The dashboard is at / (off
    127.0.0.1 it needs B2BSYNC_DASHBOARD_TOKEN or basic-auth credentials). With
    B2BSYNC_PUSH_TOKEN set it also serves the ERP push endpoint (POST /push/{kind})."""
    configure_logging()
    settings = load_or_exit(config)
    store = store_or_exit(settings)
    secret = webhook_secret(store, secret_dir)
    access = dashboard_access_or_exit(host)

    async def run() -> None:
        async with sync_context(settings) as ctx:
            intake, services = webhook_sync(
                ctx, secret, quota_share=settings.sync.webhook_quota_share
            )
            dashboard = Dashboard(
                db=ctx.db, access=access, contexts=single_store(ctx), settings=settings, store=store
            )
            out.print(f"intake at {intake_url(f'http://{host}:{port}')}", highlight=False)
            out.print(f"dashboard at http://{host}:{port}/", highlight=False)
            await serve_web(
                settings,
                intakes=[intake],
                services=services,
                dashboard=dashboard,
                host=host,
                port=port,
            )

    asyncio.run(run())
