"""The single store of `[bigcommerce]` and the `BIGCOMMERCE_*` / `B2B_*` environment: which
file values the environment leaves in place, and the settings checked with a one-line
`ConfigError` naming the variable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from b2bsync.bigcommerce import ENV_NAMES, BigCommerceSettings
from b2bsync.config.env import expand_env
from b2bsync.config.validation import setting_error
from b2bsync.errors import ConfigError

__all__ = ["STORE_HASH_ENV", "STORE_KEYS", "load_bigcommerce_settings", "store_values"]

STORE_KEYS = {
    # `[bigcommerce]` key in the file -> every environment name that sets it.
    "store_hash": ("BIGCOMMERCE_STORE_HASH", "STORE_HASH"),
    "access_token": ("BIGCOMMERCE_ACCESS_TOKEN", "ACCESS_TOKEN"),
    "client_id": ("BIGCOMMERCE_CLIENT_ID", "CLIENT_ID"),
    "b2b_access_token": ("B2B_ACCESS_TOKEN",),
    "api_url": ("BIGCOMMERCE_API_URL",),
    "b2b_api_url": ("B2B_API_URL",),
    "timeout_s": ("BIGCOMMERCE_TIMEOUT_S",),
}
STORE_HASH_ENV = STORE_KEYS["store_hash"]
"""The environment variables that name the single store."""


def load_bigcommerce_settings(**values: Any) -> BigCommerceSettings:
    """Read the settings (explicit `values` by env name win over the environment); raise a
    one-line `ConfigError` naming the first missing or malformed setting."""
    try:
        return BigCommerceSettings(**values)
    except ValidationError as error:
        raise setting_error(error, lambda field: ENV_NAMES.get(field, field.upper())) from None


def store_values(table: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """The `[bigcommerce]` values, by environment name, that the environment does not set;
    `${VAR}` expanded."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in STORE_KEYS:
            raise ConfigError(
                f"bigcommerce.{key} is not a setting; expected one of {', '.join(STORE_KEYS)}"
            )
        names = STORE_KEYS[key]
        if any(name in environ for name in names):
            continue
        values[names[0]] = expand_env(value, f"bigcommerce.{key}", environ)
    return values
