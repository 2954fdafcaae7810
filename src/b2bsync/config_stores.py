"""The stores of a multi-store configuration: `[[stores]]` tables of `b2bsync.toml`, each with
its hash, tokens (`${VAR}` from the environment or `*_file` secrets files) and the destinations
its orders go to. Without `[[stores]]`, the single store of `[bigcommerce]` and the environment
is the only one. Pure parsing: no network, no database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from b2bsync.config import BigCommerceSettings, ConfigError, expand_env

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
_EXTRA = ("destinations",)


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
    """A store to sync and the names of the destinations its orders go to (None: all)."""

    connection: BigCommerceSettings
    destinations: tuple[str, ...] | None = None

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


def _entry(
    index: int, table: Any, destinations: Sequence[str], environ: Mapping[str, str]
) -> StoreEntry:
    where = f"stores[{index}]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table ([[stores]])")
    values: dict[str, Any] = {}
    chosen: tuple[str, ...] | None = None
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
        elif key in _EXTRA:
            chosen = _destination_names(value, setting, destinations)
        else:
            allowed = ", ".join([*_KEYS, *_SECRET_FILES, *_EXTRA])
            raise ConfigError(f"{setting} is not a setting; expected one of {allowed}")
    try:
        connection = StoreSettings(**values)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        key = _ERROR_KEYS.get(field, field)
        if first["type"] == "missing":
            raise ConfigError(f"{where}.{key} is not set") from None
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{where}.{key} is malformed: {reason}") from None
    return StoreEntry(connection, chosen)


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
