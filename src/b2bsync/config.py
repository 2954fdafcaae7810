"""Settings from the environment (and `.env`). Secrets are `SecretStr`: reprs and logs show
`**********`. A missing or malformed setting fails at start-up with a `ConfigError` naming it."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from b2bsync import B2BSyncError

__all__ = ["BigCommerceSettings", "ConfigError", "load_bigcommerce_settings"]


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
