"""Every configured store of one process: the shared ledger database and destinations, and a
`SyncContext` per store on demand. Both runners use it: the single-process runner keeps one
context per store open, a worker opens one per job."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx2

from b2bsync.bigcommerce import BigCommerceClient, GovernorRegistry
from b2bsync.config import StoreEntry
from b2bsync.destinations.registry import ConfiguredDestination
from b2bsync.domain.writeback_rules import WritebackRule
from b2bsync.store.database import Database
from b2bsync.sync.calls import CallCounter
from b2bsync.sync.context import SyncContext, SyncSettings

if TYPE_CHECKING:
    from b2bsync.sync.alerts import AlertService

__all__ = ["Fleet"]


@dataclass(frozen=True, slots=True)
class Fleet:
    """The stores to sync with what they share in this process."""

    db: Database
    destinations: tuple[ConfiguredDestination, ...]
    stores: Mapping[str, StoreEntry]
    engine: SyncSettings = field(default_factory=SyncSettings)
    writeback_rules: tuple[WritebackRule, ...] = ()
    alerts: AlertService | None = None
    """The `[[alerts]]`, evaluated after every round of every store (None: none)."""

    @property
    def store_hashes(self) -> list[str]:
        """The stores' hashes, in configuration order."""
        return list(self.stores)

    def destinations_of(self, store: str) -> tuple[ConfiguredDestination, ...]:
        """The destinations `store` delivers to (all of them unless its entry names some)."""
        chosen = self.stores[store].destinations
        if chosen is None:
            return self.destinations
        return tuple(d for d in self.destinations if d.name in chosen)

    @asynccontextmanager
    async def context(
        self,
        store: str,
        *,
        governors: GovernorRegistry | None = None,
        engine: SyncSettings | None = None,
        on_page: Callable[[str, int], None] | None = None,
    ) -> AsyncIterator[SyncContext]:
        """A `SyncContext` for `store` with its own HTTP client (every API call counted) and
        the store's own channels, rate budget and write-back rules; `governors` None shares the
        process-wide rate-limit governors; `on_page` follows the V2 scans (`SyncContext`)."""
        entry = self.stores[store]
        counter = CallCounter()
        hooks: dict[str, list[Callable[..., Any]]] = {"request": [counter.on_request]}
        async with httpx2.AsyncClient(
            event_hooks=hooks, timeout=entry.connection.timeout_s
        ) as http:
            client = BigCommerceClient.from_settings(
                entry.connection,
                http_client=http,
                governors=governors,
                rate_budget=entry.rate_budget,
            )
            yield SyncContext(
                store=store,
                client=client,
                db=self.db,
                destinations=self.destinations_of(store),
                settings=engine or self.engine,
                calls=counter,
                writeback_rules=entry.writeback_rules(self.writeback_rules),
                channels=entry.channels,
                on_page=on_page,
                alerts=self.alerts,
            )
