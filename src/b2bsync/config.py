"""Settings from `b2bsync.toml` and the environment (and `.env`); the environment wins. Secrets
are `SecretStr`: reprs and logs show `**********`. A missing or malformed setting fails at
start-up with a `ConfigError` naming it."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from b2bsync import B2BSyncError
from b2bsync.domain.classification import UnclassifiedPolicy

if TYPE_CHECKING:
    from b2bsync.config_alerts import AlertSettings
    from b2bsync.config_stores import StoreEntry
    from b2bsync.destinations.registry import AnySettings
    from b2bsync.sync.loopback.writeback import WritebackRule

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_DELIVERIES_FILE",
    "BigCommerceSettings",
    "ConfigError",
    "Settings",
    "SyncOptions",
    "expand_env",
    "load_bigcommerce_settings",
    "load_settings",
]


class ConfigError(B2BSyncError):
    """The configuration is missing a setting or has a malformed one."""


_STORE_HASH = re.compile(r"[A-Za-z0-9_-]{1,64}")

_ENV_NAMES = {
    "store_hash": "BIGCOMMERCE_STORE_HASH",
    "access_token": "BIGCOMMERCE_ACCESS_TOKEN",
    "client_id": "BIGCOMMERCE_CLIENT_ID",
    "b2b_access_token": "B2B_ACCESS_TOKEN",
    "api_url": "BIGCOMMERCE_API_URL",
    "b2b_api_url": "B2B_API_URL",
    "timeout_s": "BIGCOMMERCE_TIMEOUT_S",
}


def _env(field: str, *aliases: str) -> Any:
    return Field(validation_alias=AliasChoices(_ENV_NAMES[field], *aliases))


class BigCommerceSettings(BaseSettings):
    """How to reach one BigCommerce store and its B2B Edition API.

    The reference sample's `STORE_HASH`, `ACCESS_TOKEN` and `CLIENT_ID` are accepted as aliases.
    `B2B_ACCESS_TOKEN` defaults to the store token (a store-level API account with the B2B
    Edition scope works for both). The URLs point at the sandbox in tests and demos.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    store_hash: str = _env("store_hash", "STORE_HASH")
    access_token: SecretStr = _env("access_token", "ACCESS_TOKEN")
    client_id: str | None = Field(
        default=None, validation_alias=AliasChoices("BIGCOMMERCE_CLIENT_ID", "CLIENT_ID")
    )
    b2b_access_token: SecretStr | None = Field(default=None, validation_alias="B2B_ACCESS_TOKEN")
    api_url: str = Field(
        default="https://api.bigcommerce.com", validation_alias="BIGCOMMERCE_API_URL"
    )
    b2b_api_url: str = Field(
        default="https://api-b2b.bigcommerce.com", validation_alias="B2B_API_URL"
    )
    timeout_s: float = Field(default=30.0, gt=0, validation_alias="BIGCOMMERCE_TIMEOUT_S")

    @field_validator("store_hash")
    @classmethod
    def _check_store_hash(cls, value: str) -> str:
        if not _STORE_HASH.fullmatch(value.strip()):
            raise ValueError("expected letters, digits, '-' or '_' (e.g. abc123xyz)")
        return value.strip()

    @field_validator("access_token", "b2b_access_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if not secret or any(char.isspace() for char in secret):
            raise ValueError("expected a non-empty token without spaces")
        return value

    @field_validator("api_url", "b2b_api_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("expected an http(s) URL such as https://api.bigcommerce.com")
        return value.strip().rstrip("/")

    @property
    def b2b_token(self) -> SecretStr:
        """The token for B2B Edition: `B2B_ACCESS_TOKEN`, else the store token."""
        return self.b2b_access_token or self.access_token


def _setting_name(loc: tuple[int | str, ...]) -> str:
    first = str(loc[0]) if loc else "?"
    return _ENV_NAMES.get(first, first.upper())


def load_bigcommerce_settings(**values: Any) -> BigCommerceSettings:
    """Read the settings (explicit `values` by env name win over the environment); raise a
    one-line `ConfigError` naming the first missing or malformed setting."""
    try:
        return BigCommerceSettings(**values)
    except ValidationError as error:
        first = error.errors()[0]
        name = _setting_name(first["loc"])
        if first["type"] == "missing":
            raise ConfigError(f"{name} is not set") from None
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name} is malformed: {reason}") from None


CONFIG_ENV = "B2BSYNC_CONFIG"
"""Path of the configuration file; `--config` wins over it."""
DEFAULT_CONFIG_FILE = Path("b2bsync.toml")
"""Read from the working directory when neither `--config` nor `B2BSYNC_CONFIG` names a file."""
DEFAULT_DELIVERIES_FILE = Path(".b2bsync/deliveries.jsonl")
"""Where deliveries go when no destination is configured (a `jsonl` destination)."""
# The same as `b2bsync.store`'s; repeated so that reading settings does not import SQLAlchemy.
DEFAULT_DATABASE = "sqlite:///.b2bsync/b2bsync.db"
DATABASE_ENV = "B2BSYNC_DATABASE_URL"

_SYNC_ENV = {
    "overlap_s": "B2BSYNC_OVERLAP_S",
    "poll_interval_s": "B2BSYNC_POLL_INTERVAL_S",
    "classification_deadline_s": "B2BSYNC_CLASSIFICATION_DEADLINE_S",
    "unclassified_policy": "B2BSYNC_UNCLASSIFIED_POLICY",
    "start": "B2BSYNC_START",
    "backfill_days": "B2BSYNC_BACKFILL_DAYS",
    "page_size": "B2BSYNC_PAGE_SIZE",
    "max_delivery_attempts": "B2BSYNC_MAX_DELIVERY_ATTEMPTS",
    "delivery_lease_s": "B2BSYNC_DELIVERY_LEASE_S",
    "webhook_quota_share": "B2BSYNC_WEBHOOK_QUOTA_SHARE",
}

_STORE_KEYS = {
    # `[bigcommerce]` key in the file -> every environment name that sets it.
    "store_hash": ("BIGCOMMERCE_STORE_HASH", "STORE_HASH"),
    "access_token": ("BIGCOMMERCE_ACCESS_TOKEN", "ACCESS_TOKEN"),
    "client_id": ("BIGCOMMERCE_CLIENT_ID", "CLIENT_ID"),
    "b2b_access_token": ("B2B_ACCESS_TOKEN",),
    "api_url": ("BIGCOMMERCE_API_URL",),
    "b2b_api_url": ("B2B_API_URL",),
    "timeout_s": ("BIGCOMMERCE_TIMEOUT_S",),
}

_TOP_LEVEL = (
    "database_url",
    "bigcommerce",
    "stores",
    "sync",
    "destinations",
    "writeback",
    "alerts",
)
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SyncOptions(BaseModel):
    """The `[sync]` table: how the sync polls, classifies and delivers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    overlap_s: float = Field(default=300.0, ge=0)
    """How far below its watermark each incremental scan starts again."""
    poll_interval_s: float = Field(default=30.0, gt=0)
    """Pause between two rounds of `b2bsync sync` (without `--once`)."""
    classification_deadline_s: float = Field(default=1800.0, gt=0)
    """How long an order may wait for a signal before `unclassified_policy` applies."""
    unclassified_policy: UnclassifiedPolicy = UnclassifiedPolicy.HOLD
    start: datetime | None = None
    """Where the first scan starts (a date or an ISO time, UTC when no offset is given)."""
    backfill_days: float = Field(default=365.0, gt=0)
    """Without `start`, the first scan reaches this many days back."""
    page_size: int = Field(default=250, ge=1, le=250)
    max_delivery_attempts: int = Field(default=8, ge=1, le=100)
    delivery_lease_s: float = Field(default=300.0, gt=0)
    """How long a batch being delivered stays claimed; after a crash its rows wait this long."""
    webhook_quota_share: float = Field(default=0.2, gt=0, le=1)
    """The share of the store API quota the webhook-driven sync keeps within (0.2 = 20 %): the
    store's quota is shared with every app installed on it."""

    @field_validator("start", mode="before")
    @classmethod
    def _parse_start(cls, value: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        if isinstance(value, str) and value.strip():
            return parse_since(value)
        return value

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        return value


def parse_since(text: str) -> datetime:
    """`2026-01-31` or an ISO 8601 time as an aware datetime (UTC when no offset is given)."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"expected a date like 2026-01-31 or an ISO time, got {text!r}") from None
    return parsed if parsed.utcoffset() is not None else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a b2bsync command needs: the store, the ledger database, the sync options and
    the destinations, composed from the file and the environment."""

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
        from b2bsync.config_stores import StoreEntry

        return self.stores or (StoreEntry(self.bigcommerce()),)

    @property
    def store_configured(self) -> bool:
        """Whether a store hash is set at all (the demo and offline commands need none)."""
        names = _STORE_KEYS["store_hash"]
        return (
            bool(self.stores)
            or any(os.environ.get(name) for name in names)
            or any(name in self.store_values for name in names)
        )


def expand_env(value: Any, where: str, environ: Mapping[str, str]) -> Any:
    """`value` with every `${VAR}` replaced from `environ`; `ConfigError` naming `where` when a
    variable is not set."""
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match[str]) -> str:
        variable = match.group(1)
        if variable not in environ:
            raise ConfigError(f"{where} refers to ${{{variable}}}, which is not set")
        return environ[variable]

    return _ENV_REFERENCE.sub(lookup, value)


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
    return document


def _table(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{name} must be a table ([{name}])")
    return table


def _store_values(table: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _STORE_KEYS:
            raise ConfigError(
                f"bigcommerce.{key} is not a setting; expected one of {', '.join(_STORE_KEYS)}"
            )
        names = _STORE_KEYS[key]
        if any(name in environ for name in names):
            continue
        values[names[0]] = expand_env(value, f"bigcommerce.{key}", environ)
    return values


def _sync_options(table: Mapping[str, Any], environ: Mapping[str, str]) -> SyncOptions:
    values = {key: expand_env(value, f"sync.{key}", environ) for key, value in table.items()}
    values |= {key: environ[name] for key, name in _SYNC_ENV.items() if environ.get(name)}
    try:
        return SyncOptions.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else "?"
        shown = f"{_SYNC_ENV[key]}" if key in _SYNC_ENV and environ.get(_SYNC_ENV[key]) else ""
        name = shown or f"sync.{key}"
        if first["type"] == "extra_forbidden":
            raise ConfigError(
                f"{name} is not a setting; expected one of {', '.join(_SYNC_ENV)}"
            ) from None
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name} is malformed: {reason}") from None


def load_settings(
    config_file: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Compose the settings: `config_file` (else `B2BSYNC_CONFIG`, else `./b2bsync.toml` when
    it exists), overridden by the environment. Raises a one-line `ConfigError` naming the bad
    setting. The store settings are checked by `Settings.bigcommerce()`, when a command needs
    them."""
    from b2bsync.config_alerts import parse_alerts
    from b2bsync.config_stores import parse_stores
    from b2bsync.destinations.registry import (
        JsonlSettings,
        load_destination_settings,
        read_destination_settings,
    )
    from b2bsync.sync.loopback.writeback import RulesError, parse_rules

    env = os.environ if environ is None else environ
    path = _config_file(config_file, env)
    document = _read_document(path)
    database_url = env.get(DATABASE_ENV) or expand_env(
        document.get("database_url", DEFAULT_DATABASE), "database_url", env
    )
    if not isinstance(database_url, str) or not database_url.strip():
        raise ConfigError("database_url must be a database URL such as sqlite:///b2bsync.db")
    if env.get("B2BSYNC_DESTINATIONS"):
        destinations = read_destination_settings(environ=env)
    else:
        destinations = load_destination_settings(document.get("destinations", []), environ=env)
    defaulted = not destinations
    if defaulted:
        destinations = [JsonlSettings(type="jsonl", name="jsonl", path=DEFAULT_DELIVERIES_FILE)]
    rules: tuple[WritebackRule, ...] = ()
    if "writeback" in document:
        try:
            rules = parse_rules(document["writeback"], f"{path} [[writeback]]")
        except RulesError as error:
            raise ConfigError(str(error)) from None
    stores: tuple[StoreEntry, ...] = ()
    if "stores" in document:
        stores = parse_stores(document["stores"], [d.name for d in destinations], env)
    alerts = parse_alerts(document["alerts"], env) if "alerts" in document else ()
    return Settings(
        database_url=database_url.strip(),
        sync=_sync_options(_table(document, "sync"), env),
        destinations=tuple(destinations),
        destinations_defaulted=defaulted,
        config_file=path,
        store_values=_store_values(_table(document, "bigcommerce"), env),
        writeback_rules=rules,
        stores=stores,
        alerts=alerts,
    )
