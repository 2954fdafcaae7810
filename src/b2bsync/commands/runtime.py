"""What the sync commands share: loading the settings (a bad one exits 2 with one line), opening
the ledger database (SQLite is migrated on the fly), and building a `SyncContext`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import structlog
import typer
from rich.console import Console
from rich.markup import escape

from b2bsync.bigcommerce import BigCommerceSettings
from b2bsync.config import ConfigError, Settings, load_settings
from b2bsync.destinations.registry import ConfiguredDestination, build_destinations
from b2bsync.observability import configure_logging
from b2bsync.store import Database, StoreError, display_url, head_revision
from b2bsync.sync import SyncContext, SyncSettings
from b2bsync.sync.alerts import AlertService
from b2bsync.sync.fleet import Fleet
from b2bsync.web.access import Access, AccessError, check_bind

__all__ = [
    "ConfigOption",
    "JsonOption",
    "connection_or_exit",
    "dashboard_access_or_exit",
    "err",
    "fail",
    "load_or_exit",
    "open_database",
    "open_fleet",
    "out",
    "store_or_exit",
    "sync_context",
]

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Configuration file (default: $B2BSYNC_CONFIG, else ./b2bsync.toml if present).",
        dir_okay=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]

# What commands print is data (order notes carry `[b2bsync]` markers, errors name `[[stores]]`),
# so rich markup is off; the few styled lines opt in with `markup=True` and escape their data.
out = Console(markup=False)
err = Console(stderr=True, markup=False)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `Error: message` on stderr (the message as it is: brackets are not markup); raise
    the returned `Exit` to stop with `code`."""
    err.print(
        f"[bold red]Error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True
    )
    return typer.Exit(code)


def load_or_exit(config: Path | None, *, database_url: str | None = None) -> Settings:
    """The settings of the one loader (`config`, else `B2BSYNC_CONFIG`, else ./b2bsync.toml;
    then the environment; then the flags given), or exit 2 with one line naming the bad
    setting."""
    if not structlog.is_configured():
        # A warning of the loader goes to stderr even before the command chooses its log format.
        configure_logging()
    try:
        return load_settings(config, database_url=database_url)
    except ConfigError as error:
        raise fail(str(error), 2) from None


def connection_or_exit(settings: Settings) -> BigCommerceSettings:
    """The configured store's settings, or exit 2 naming what is missing."""
    try:
        return settings.bigcommerce()
    except ConfigError as error:
        raise fail(str(error), 2) from None


def store_or_exit(settings: Settings) -> str:
    """The configured store hash, or exit 2 naming what is missing."""
    return connection_or_exit(settings).store_hash


def dashboard_access_or_exit(host: str) -> Access:
    """The dashboard's credentials from the environment, or exit 2 when serving on `host`
    would expose it without any (or the credentials are half set)."""
    try:
        access = Access.from_env()
        check_bind(host, access)
    except AccessError as error:
        raise fail(str(error), 2) from None
    return access


async def open_database(url: str) -> Database:
    """The ledger database at its newest schema. SQLite files are created and migrated here
    (they are local and private to b2bsync); a PostgreSQL database is only checked, since
    migrating a shared server is a deliberate `b2bsync db upgrade`."""
    try:
        database = Database(url)
    except StoreError as error:
        raise fail(str(error), 2) from None
    try:
        if database.dialect == "sqlite":
            await database.upgrade()
        else:
            revision = await database.current_revision()
            if revision != head_revision():
                raise fail(
                    f"{display_url(url)} is at schema revision {revision or 'empty'}, not "
                    f"{head_revision()}: run `b2bsync db upgrade`"
                )
    except typer.Exit:
        await database.close()
        raise
    except Exception as error:
        await database.close()
        reason = str(getattr(error, "orig", None) or error).strip()
        raise fail(f"cannot open {display_url(url)}: {reason}") from None
    return database


@asynccontextmanager
async def open_fleet(settings: Settings, *, stores_required: bool = True) -> AsyncIterator[Fleet]:
    """Every configured store with the ledger database and destinations they share; all is
    closed when the block ends. A bad setting exits 2 naming it; so does a missing store unless
    not `stores_required` (a process that only serves the dashboard)."""
    try:
        entries = settings.store_entries() if stores_required or settings.store_configured else ()
        stores = {entry.store_hash: entry for entry in entries}
        destinations: list[ConfiguredDestination] = build_destinations(settings.destinations)
    except ConfigError as error:
        raise fail(str(error), 2) from None
    try:
        database = await open_database(settings.database_url)
    except typer.Exit:
        for configured in destinations:
            await configured.destination.aclose()
        raise
    try:
        yield Fleet(
            db=database,
            destinations=tuple(destinations),
            stores=stores,
            engine=SyncSettings.from_options(settings.sync),
            writeback_rules=settings.writeback_rules,
            alerts=AlertService(settings.alerts) if settings.alerts else None,
        )
    finally:
        for configured in destinations:
            await configured.destination.aclose()
        await database.close()


@asynccontextmanager
async def sync_context(
    settings: Settings,
    *,
    engine: SyncSettings | None = None,
    on_page: Callable[[str, int], None] | None = None,
) -> AsyncIterator[SyncContext]:
    """A `SyncContext` for the configured store (the first of `[[stores]]`) with its database
    and destinations; everything is closed when the block ends. Every API call is counted in
    `ctx.calls`; `on_page` follows the V2 scans."""
    async with open_fleet(settings) as fleet:
        store = fleet.store_hashes[0]
        async with fleet.context(store, engine=engine, on_page=on_page) as ctx:
            yield ctx
