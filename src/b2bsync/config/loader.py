"""The one loader every command uses: the file (`--config`, else `B2BSYNC_CONFIG`, else
`./b2bsync.toml` when it exists), then the environment (and `.env` for the store), then the
command's flags. A missing or malformed setting fails at start-up with a one-line
`ConfigError` naming it."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import structlog

from b2bsync.config.alerts import parse_alerts
from b2bsync.config.bigcommerce import STORE_HASH_ENV, store_values
from b2bsync.config.destinations import (
    DESTINATIONS_ENV,
    load_destination_settings,
    read_destination_settings,
)
from b2bsync.config.env import expand_env
from b2bsync.config.settings import Settings
from b2bsync.config.stores import StoreEntry, parse_stores
from b2bsync.config.sync import sync_options
from b2bsync.config.writeback import configured_rules
from b2bsync.destinations.registry import JsonlSettings
from b2bsync.domain.writeback_rules import WritebackRule
from b2bsync.errors import ConfigError

__all__ = [
    "CONFIG_ENV",
    "DATABASE_ENV",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_DATABASE",
    "DEFAULT_DELIVERIES_FILE",
    "load_settings",
]

log = structlog.get_logger("b2bsync.config")

CONFIG_ENV = "B2BSYNC_CONFIG"
"""Path of the configuration file; `--config` wins over it."""
DEFAULT_CONFIG_FILE = Path("b2bsync.toml")
"""Read from the working directory when neither `--config` nor `B2BSYNC_CONFIG` names a file."""
DEFAULT_DELIVERIES_FILE = Path(".b2bsync/deliveries.jsonl")
"""Where deliveries go when no destination is configured (a `jsonl` destination)."""
# The same as `b2bsync.store`'s; repeated so that reading settings does not import SQLAlchemy.
DEFAULT_DATABASE = "sqlite:///.b2bsync/b2bsync.db"
DATABASE_ENV = "B2BSYNC_DATABASE_URL"

_TOP_LEVEL = (
    "database_url",
    "bigcommerce",
    "stores",
    "sync",
    "destinations",
    "writeback",
    "alerts",
)


def _config_file(path: Path | None, environ: Mapping[str, str]) -> Path | None:
    if path is None and environ.get(CONFIG_ENV):
        path = Path(environ[CONFIG_ENV])
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"the configuration file {path} does not exist")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _read_document(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    unknown = sorted(set(document) - set(_TOP_LEVEL))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting {unknown[0]!r}; expected one of {', '.join(_TOP_LEVEL)}"
        )
    if "stores" in document and "bigcommerce" in document:
        raise ConfigError(
            f"{path}: [bigcommerce] and [[stores]] cannot be used together; "
            "move the store into a [[stores]] entry"
        )
    return document


def _table(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{name} must be a table ([{name}])")
    return table


def _database_url(document: Mapping[str, Any], environ: Mapping[str, str], flag: str | None) -> str:
    url = (
        flag
        or environ.get(DATABASE_ENV)
        or expand_env(document.get("database_url", DEFAULT_DATABASE), "database_url", environ)
    )
    if not isinstance(url, str) or not url.strip():
        raise ConfigError("database_url must be a database URL such as sqlite:///b2bsync.db")
    return url.strip()


def _stores(
    document: Mapping[str, Any], destinations: list[str], environ: Mapping[str, str]
) -> tuple[StoreEntry, ...]:
    if "stores" not in document:
        return ()
    stores = parse_stores(document["stores"], destinations, environ)
    ignored = [name for name in STORE_HASH_ENV if environ.get(name)]
    if ignored:
        # The variable is easy to leave behind when moving to [[stores]]; say once that it
        # no longer chooses the store.
        log.warning(
            "config.environment_ignored",
            variable=ignored[0],
            reason="[[stores]] names the stores; the variable is not used",
        )
    return stores


def load_settings(
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    database_url: str | None = None,
) -> Settings:
    """Compose the settings: `config_file` (else `B2BSYNC_CONFIG`, else `./b2bsync.toml` when
    it exists), overridden by the environment, overridden by the flags given (`database_url`).
    Raises a one-line `ConfigError` naming the bad setting. The store settings are checked by
    `Settings.bigcommerce()`, when a command needs them."""
    env = os.environ if environ is None else environ
    path = _config_file(config_file, env)
    document = _read_document(path)
    url = _database_url(document, env, database_url)
    if env.get(DESTINATIONS_ENV):
        destinations = read_destination_settings(environ=env)
    else:
        destinations = load_destination_settings(document.get("destinations", []), environ=env)
    defaulted = not destinations
    if defaulted:
        destinations = [JsonlSettings(type="jsonl", name="jsonl", path=DEFAULT_DELIVERIES_FILE)]
    rules: tuple[WritebackRule, ...] = ()
    if "writeback" in document:
        rules = configured_rules(document["writeback"], f"{path} [[writeback]]")
    stores = _stores(document, [d.name for d in destinations], env)
    alerts = parse_alerts(document["alerts"], env) if "alerts" in document else ()
    return Settings(
        database_url=url,
        sync=sync_options(_table(document, "sync"), env),
        destinations=tuple(destinations),
        destinations_defaulted=defaulted,
        config_file=path,
        store_values=store_values(_table(document, "bigcommerce"), env),
        writeback_rules=rules,
        stores=stores,
        alerts=alerts,
    )
