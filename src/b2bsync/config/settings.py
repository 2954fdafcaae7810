"""`Settings`: everything a b2bsync command needs, as composed by the loader
(`b2bsync.config.loader`). Secrets are `SecretStr`: reprs and logs show `**********`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from b2bsync.bigcommerce import BigCommerceSettings
from b2bsync.config.alerts import AlertSettings
from b2bsync.config.bigcommerce import STORE_HASH_ENV, load_bigcommerce_settings
from b2bsync.config.stores import StoreEntry
from b2bsync.config.sync import SyncOptions
from b2bsync.destinations.registry import AnySettings
from b2bsync.domain.writeback_rules import WritebackRule

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a b2bsync command needs: the store, the ledger database, the sync options and
    the destinations, composed from the file, the environment and the command's flags."""

    database_url: str
    sync: SyncOptions
    destinations: tuple[AnySettings, ...]
    destinations_defaulted: bool
    """True when nothing was configured and the default `jsonl` file is used."""
    config_file: Path | None
    """The file that was read, if any."""
    store_values: Mapping[str, Any] = field(default_factory=dict)
    """`[bigcommerce]` values of the file that the environment does not override."""
    writeback_rules: tuple[WritebackRule, ...] = ()
    """`[[writeback]]` rules, applied by `b2bsync sync` after each round; none: no write-back."""
    stores: tuple[StoreEntry, ...] = ()
    """`[[stores]]` of a multi-store configuration; empty: the single `[bigcommerce]` store."""
    alerts: tuple[AlertSettings, ...] = ()
    """`[[alerts]]`: evaluated after every sync round; none: no notification is sent."""

    def bigcommerce(self) -> BigCommerceSettings:
        """The store settings (the first `[[stores]]` entry when there are several);
        `ConfigError` naming the first missing or malformed one."""
        if self.stores:
            return self.stores[0].connection
        return load_bigcommerce_settings(**self.store_values)

    def store_entries(self) -> tuple[StoreEntry, ...]:
        """Every store to sync: the `[[stores]]` tables, else the single configured store."""
        return self.stores or (StoreEntry(self.bigcommerce()),)

    @property
    def store_configured(self) -> bool:
        """Whether a store hash is set at all (the demo and offline commands need none)."""
        return (
            bool(self.stores)
            or any(os.environ.get(name) for name in STORE_HASH_ENV)
            or any(name in self.store_values for name in STORE_HASH_ENV)
        )
