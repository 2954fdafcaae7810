"""What the dashboard needs from the process that serves it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from b2bsync.bigcommerce import GovernorRegistry, default_registry
from b2bsync.config import Settings
from b2bsync.store import Database
from b2bsync.sync.context import SyncContext
from b2bsync.sync.fleet import Fleet
from b2bsync.web.access import Access

__all__ = ["Dashboard", "StoreContexts", "fleet_dashboard", "single_store"]

StoreContexts = Callable[[str], AbstractAsyncContextManager[SyncContext]]
"""Opens the `SyncContext` of a store hash for one action; raises `KeyError` for a store the
process does not sync."""


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The ledger to read, and how to act: pass it to `create_app(dashboard=...)`."""

    db: Database
    access: Access = field(default_factory=Access)
    contexts: StoreContexts | None = None
    """For Retry, Skip and the reconciliation report; None makes the dashboard read-only."""
    settings: Settings | None = None
    """Shown (secrets masked) on the Settings page."""
    described: Mapping[str, Any] | None = None
    """What a process started without settings runs (the demo), for the Settings page; no
    secrets."""
    governors: GovernorRegistry = default_registry
    """Where the rate budget left per API is read."""
    store: str | None = None
    """The store shown first (None: every store in the ledger)."""


def single_store(ctx: SyncContext) -> StoreContexts:
    """The contexts of a process that syncs one store with one long-lived `ctx`."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[SyncContext]:
        yield ctx

    def contexts(store: str) -> AbstractAsyncContextManager[SyncContext]:
        if store != ctx.store:
            raise KeyError(store)
        return opened()

    return contexts


def fleet_dashboard(fleet: Fleet, access: Access, settings: Settings) -> Dashboard:
    """The dashboard of a process serving every store of `fleet`: an action opens the store's
    context for its own duration; a single store is shown first."""

    def contexts(store: str) -> AbstractAsyncContextManager[SyncContext]:
        if store not in fleet.stores:
            raise KeyError(store)
        return fleet.context(store)

    hashes = fleet.store_hashes
    return Dashboard(
        db=fleet.db,
        access=access,
        contexts=contexts,
        settings=settings,
        store=hashes[0] if len(hashes) == 1 else None,
    )
