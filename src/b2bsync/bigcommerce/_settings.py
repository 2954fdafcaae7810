"""`BigCommerceSettings`: how to reach one store and its B2B Edition API, read from the
environment (and `.env`). The client takes them as they are; turning a validation error into a
message naming the setting is the configuration loader's job (`b2bsync.config`)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_API_URL", "DEFAULT_B2B_API_URL", "ENV_NAMES", "BigCommerceSettings"]

DEFAULT_API_URL = "https://api.bigcommerce.com"
DEFAULT_B2B_API_URL = "https://api-b2b.bigcommerce.com"

ENV_NAMES = {
    "store_hash": "BIGCOMMERCE_STORE_HASH",
    "access_token": "BIGCOMMERCE_ACCESS_TOKEN",
    "client_id": "BIGCOMMERCE_CLIENT_ID",
    "b2b_access_token": "B2B_ACCESS_TOKEN",
    "api_url": "BIGCOMMERCE_API_URL",
    "b2b_api_url": "B2B_API_URL",
    "timeout_s": "BIGCOMMERCE_TIMEOUT_S",
}
"""Field -> the environment variable that sets it (and names it in errors)."""

_STORE_HASH = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _env(field: str, *aliases: str) -> Any:
    return Field(validation_alias=AliasChoices(ENV_NAMES[field], *aliases))


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
    api_url: str = Field(default=DEFAULT_API_URL, validation_alias="BIGCOMMERCE_API_URL")
    b2b_api_url: str = Field(default=DEFAULT_B2B_API_URL, validation_alias="B2B_API_URL")
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
