"""The stores of a multi-store configuration: `[[stores]]` tables of `b2bsync.toml`, each with
its hash, tokens (`${VAR}` from the environment or `*_file` secrets files), the destinations
its orders go to, the storefront channels to deliver, its rate budget (`plan` or `rate_budget`)
and its write-back rules (`[[stores.writeback]]`, replacing `[[writeback]]`). Without
`[[stores]]`, the single store of `[bigcommerce]` and the environment is the only one. Pure
parsing: no network, no database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from b2bsync.bigcommerce import PLAN_BUDGETS, BigCommerceSettings, RateBudget, parse_rate_budget
from b2bsync.config.env import expand_env
from b2bsync.config.validation import setting_error
from b2bsync.config.writeback import configured_rules
from b2bsync.domain.writeback_rules import WritebackRule
from b2bsync.errors import ConfigError

__all__ = ["StoreEntry", "StoreSettings", "parse_stores"]

_KEYS = {
    # `[[stores]]` key -> the field's name as `BigCommerceSettings` takes it.
    "hash": "BIGCOMMERCE_STORE_HASH",
    "access_token": "BIGCOMMERCE_ACCESS_TOKEN",
    "b2b_access_token": "B2B_ACCESS_TOKEN",
    "client_id": "BIGCOMMERCE_CLIENT_ID",
    "api_url": "BIGCOMMERCE_API_URL",
    "b2b_api_url": "B2B_API_URL",
    "timeout_s": "BIGCOMMERCE_TIMEOUT_S",
}
_SECRET_FILES = {"access_token_file": "access_token", "b2b_access_token_file": "b2b_access_token"}
_ERROR_KEYS = {"store_hash": "hash", **{alias: key for key, alias in _KEYS.items()}}
"""A validation error's location (field or alias name) -> the `[[stores]]` key to name."""
_EXTRA = ("destinations", "channels", "plan", "rate_budget", "writeback")


class StoreSettings(BigCommerceSettings):
    """One `[[stores]]` entry's connection settings: read from the file only, never from the
    environment, so one store's `B2B_ACCESS_TOKEN` cannot leak into another's."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the values given to the constructor."""
        return (init_settings,)


@dataclass(frozen=True, slots=True)
class StoreEntry:
    """A store to sync and what applies to it alone."""

    connection: BigCommerceSettings
    destinations: tuple[str, ...] | None = None
    """Names of the destinations its orders go to (None: all)."""
    channels: frozenset[int] | None = None
    """Storefront channels whose orders are delivered (None: every channel)."""
    rate_budget: RateBudget | None = None
    """b2bsync's cap on the store API (from `plan` or `rate_budget`; None: the server's)."""
    writeback: tuple[WritebackRule, ...] | None = None
    """Its write-back rules (None: the global `[[writeback]]`; empty: none)."""

    def writeback_rules(self, shared: tuple[WritebackRule, ...]) -> tuple[WritebackRule, ...]:
        """The rules applied to this store: its own, else the `shared` `[[writeback]]` ones."""
        return shared if self.writeback is None else self.writeback

    @property
    def store_hash(self) -> str:
        """The store's hash (also its key in every table, log line and job lock)."""
        return self.connection.store_hash


def _read_secret(path_text: Any, where: str) -> str:
    if not isinstance(path_text, str) or not path_text.strip():
        raise ConfigError(f"{where} must be the path of a file holding the token")
    path = Path(path_text.strip())
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigError(f"{where}: cannot read {path}: {error.strerror}") from None


def _destination_names(value: Any, where: str, known: Sequence[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ConfigError(f"{where} must be a list of destination names")
    for name in value:
        if name not in known:
            raise ConfigError(
                f"{where} names {name!r}, which is not a destination; "
                f"expected one of {', '.join(known)}"
            )
    return tuple(value)


def _channels(value: Any, where: str) -> frozenset[int]:
    valid = isinstance(value, list) and value
    if not valid or not all(type(c) is int and c >= 1 for c in value):
        raise ConfigError(f"{where} must be a non-empty list of channel ids such as [1, 2]")
    return frozenset(value)


def _rate_budget(table: Mapping[str, Any], where: str) -> RateBudget | None:
    plan_text, budget_text = table.get("plan"), table.get("rate_budget")
    plan: RateBudget | None = None
    if plan_text is not None:
        plan = PLAN_BUDGETS.get(plan_text) if isinstance(plan_text, str) else None
        if plan is None:
            raise ConfigError(f"{where}.plan must be one of {', '.join(PLAN_BUDGETS)}")
    if budget_text is None:
        return plan
    try:
        budget = parse_rate_budget(budget_text if isinstance(budget_text, str) else "")
    except ValueError:
        raise ConfigError(
            f'{where}.rate_budget must be requests per window such as "100/30s"'
        ) from None
    if plan is not None and budget.exceeds(plan):
        raise ConfigError(
            f"{where}.rate_budget {budget} is more than the {plan_text} plan's {plan}"
        )
    return budget


def _writeback(value: Any, where: str) -> tuple[WritebackRule, ...]:
    if value == []:
        return ()
    return configured_rules(value, f"{where} ([[stores.writeback]])")


def _entry(
    index: int, table: Any, destinations: Sequence[str], environ: Mapping[str, str]
) -> StoreEntry:
    where = f"stores[{index}]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table ([[stores]])")
    values: dict[str, Any] = {}
    chosen: tuple[str, ...] | None = None
    channels: frozenset[int] | None = None
    writeback: tuple[WritebackRule, ...] | None = None
    for key, value in table.items():
        setting = f"{where}.{key}"
        if key in _KEYS:
            values[_KEYS[key]] = expand_env(value, setting, environ)
        elif key in _SECRET_FILES:
            token_key = _SECRET_FILES[key]
            if token_key in table:
                raise ConfigError(f"{setting}: set {token_key} or {key}, not both")
            path = expand_env(value, setting, environ)
            values[_KEYS[token_key]] = _read_secret(path, setting)
        elif key == "destinations":
            chosen = _destination_names(value, setting, destinations)
        elif key == "channels":
            channels = _channels(value, setting)
        elif key == "writeback":
            writeback = _writeback(value, setting)
        elif key in _EXTRA:
            continue  # plan and rate_budget, read together below
        else:
            allowed = ", ".join([*_KEYS, *_SECRET_FILES, *_EXTRA])
            raise ConfigError(f"{setting} is not a setting; expected one of {allowed}")
    try:
        connection = StoreSettings(**values)
    except ValidationError as error:
        raise setting_error(
            error, lambda field: f"{where}.{_ERROR_KEYS.get(field, field)}"
        ) from None
    budget = _rate_budget(table, where)
    return StoreEntry(connection, chosen, channels, budget, writeback)


def parse_stores(
    raw: Any, destinations: Sequence[str], environ: Mapping[str, str]
) -> tuple[StoreEntry, ...]:
    """Validate the `[[stores]]` array; `destinations` are the configured destination names a
    store may choose from. Raises a one-line `ConfigError` naming the first bad setting."""
    if not isinstance(raw, list) or not raw:
        raise ConfigError("stores must be a non-empty array of tables ([[stores]])")
    entries = tuple(_entry(i, table, destinations, environ) for i, table in enumerate(raw))
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if entry.store_hash in seen:
            raise ConfigError(f"stores[{index}].hash {entry.store_hash!r} is listed twice")
        seen.add(entry.store_hash)
    return entries
