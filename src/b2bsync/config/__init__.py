"""Configuration: `b2bsync.toml`, then the environment, then a command's flags, composed by one
loader (`load_settings`) into `Settings`. Every mistake is a one-line `ConfigError` naming the
setting. Pure reading: no network, no database.

- `loader.py`: which file, the document's top level, and the composition;
- `settings.py`: `Settings`, what every command receives;
- `bigcommerce.py`, `stores.py`, `sync.py`, `destinations.py`, `writeback.py`, `alerts.py`: one
  module per part of the file (`[bigcommerce]`, `[[stores]]`, `[sync]`, `[[destinations]]`,
  `[[writeback]]`, `[[alerts]]`);
- `env.py`, `validation.py`: the one `${VAR}` expander and the one translation of pydantic's
  errors.
"""

from b2bsync.bigcommerce import BigCommerceSettings
from b2bsync.config.alerts import AlertSettings, channel_label, parse_alerts, parse_duration
from b2bsync.config.bigcommerce import load_bigcommerce_settings
from b2bsync.config.destinations import (
    DESTINATIONS_ENV,
    load_destination_settings,
    read_destination_settings,
)
from b2bsync.config.env import expand_env
from b2bsync.config.loader import (
    CONFIG_ENV,
    DEFAULT_CONFIG_FILE,
    DEFAULT_DELIVERIES_FILE,
    load_settings,
)
from b2bsync.config.settings import Settings
from b2bsync.config.stores import StoreEntry, StoreSettings, parse_stores
from b2bsync.config.sync import SyncOptions, parse_since
from b2bsync.config.writeback import load_rules
from b2bsync.errors import ConfigError

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_DELIVERIES_FILE",
    "DESTINATIONS_ENV",
    "AlertSettings",
    "BigCommerceSettings",
    "ConfigError",
    "Settings",
    "StoreEntry",
    "StoreSettings",
    "SyncOptions",
    "channel_label",
    "expand_env",
    "load_bigcommerce_settings",
    "load_destination_settings",
    "load_rules",
    "load_settings",
    "parse_alerts",
    "parse_duration",
    "parse_since",
    "parse_stores",
    "read_destination_settings",
]
