"""What a destination's configuration holds (one settings model per `type`) and how the
destinations are built from it. Reading the settings (`[[destinations]]` of `b2bsync.toml`,
`B2BSYNC_DESTINATIONS`, `${VAR}` references) is `b2bsync.config`'s job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, TypeAlias
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)

from b2bsync.destinations.amqp import DEFAULT_BINDING_KEY, AmqpDestination
from b2bsync.destinations.base import Destination
from b2bsync.destinations.errors import DestinationConfigError
from b2bsync.destinations.http import HttpDestination
from b2bsync.destinations.jsonl import JsonlDestination
from b2bsync.destinations.python import PythonDestination
from b2bsync.destinations.redis_stream import RedisStreamDestination
from b2bsync.destinations.routing import Route
from b2bsync.destinations.sql import DEFAULT_ORDERS_TABLE, DEFAULT_PAYMENTS_TABLE, SqlDestination

__all__ = [
    "AmqpSettings",
    "ConfiguredDestination",
    "DestinationSettings",
    "HttpSettings",
    "JsonlSettings",
    "PythonSettings",
    "RedisSettings",
    "SqlSettings",
    "build_destinations",
]

_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_TABLE = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    """Unique; lower-case letters, digits, `-`, `_` (it keys the outbox rows)."""
    route: Route = Route()
    max_batch: int = Field(default=100, ge=1, le=1000)


class SqlSettings(_Common):
    type: Literal["sql"]
    url: SecretStr
    """Any SQLAlchemy URL; `sqlite://` and `postgresql://` get their async drivers."""
    table: str = Field(default=DEFAULT_ORDERS_TABLE, pattern=_TABLE)
    payments_table: str = Field(default=DEFAULT_PAYMENTS_TABLE, pattern=_TABLE)
    create_tables: bool = True


class HttpSettings(_Common):
    type: Literal["http"]
    url: str
    secret: SecretStr
    """Shared HMAC-SHA256 key for `X-B2BSync-Signature`; at least 16 characters."""
    headers: dict[str, SecretStr] = {}
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    concurrency: int = Field(default=4, ge=1, le=64)
    batch: bool = False
    """POST each chunk of up to `max_batch` deliveries as one `{"deliveries": [...]}` request."""

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("expected an http(s) URL such as https://erp.example.com/b2bsync")
        return value.strip()

    @field_validator("secret")
    @classmethod
    def _check_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("expected at least 16 characters")
        return value


class JsonlSettings(_Common):
    type: Literal["jsonl"]
    path: Path


class PythonSettings(_Common):
    type: Literal["python"]
    target: str = Field(min_length=1)
    """`package.module:function`, or an entry point name in group `b2bsync.destinations`."""


def _url_with_scheme(value: SecretStr, schemes: tuple[str, ...], example: str) -> SecretStr:
    parts = urlsplit(value.get_secret_value().strip())
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"expected a URL such as {example}")
    return SecretStr(value.get_secret_value().strip())


class RedisSettings(_Common):
    type: Literal["redis"]
    url: SecretStr
    stream_prefix: str = Field(default="b2bsync", pattern=r"^[A-Za-z0-9_.:{}-]{1,100}$")
    """Streams `<stream_prefix>:order` and `<stream_prefix>:payment`."""
    maxlen: int | None = Field(default=None, ge=1)
    """Trim each stream to about this many entries (`XADD MAXLEN ~`)."""
    timeout_s: float = Field(default=10.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: SecretStr) -> SecretStr:
        return _url_with_scheme(value, ("redis", "rediss"), "redis://127.0.0.1:6379/0")


_AMQP_NAME = r"^[A-Za-z0-9_.:-]{1,255}$"
"""The characters RabbitMQ allows in exchange and queue names."""


class AmqpSettings(_Common):
    type: Literal["amqp"]
    url: SecretStr
    exchange: str = Field(default="b2bsync", pattern=_AMQP_NAME)
    """A topic exchange; routing keys `b2bsync.<kind>.<order_type>`."""
    declare: bool = True
    """Declare the exchange (durable), and `queue` if given, on connecting."""
    queue: str | None = Field(default=None, pattern=_AMQP_NAME)
    """A durable queue to declare and bind to the exchange with `binding_key`."""
    binding_key: str = Field(default=DEFAULT_BINDING_KEY, min_length=1, max_length=255)
    timeout_s: float = Field(default=10.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: SecretStr) -> SecretStr:
        return _url_with_scheme(value, ("amqp", "amqps"), "amqp://guest:guest@127.0.0.1:5672/")

    @field_validator("queue")
    @classmethod
    def _check_queue(cls, value: str | None, info: ValidationInfo) -> str | None:
        # `declare` is validated before `queue` (field order), so it is in info.data when valid.
        if value is not None and not info.data.get("declare", True):
            raise ValueError("needs declare = true")
        return value


AnySettings: TypeAlias = (
    SqlSettings | HttpSettings | JsonlSettings | PythonSettings | RedisSettings | AmqpSettings
)
DestinationSettings: TypeAlias = Annotated[AnySettings, Field(discriminator="type")]
"""One `[[destinations]]` table, by its `type`."""


@dataclass(frozen=True, slots=True)
class ConfiguredDestination:
    """A destination with the name and routing rule it was configured with."""

    name: str
    route: Route
    destination: Destination


def _build(setting: AnySettings) -> Destination:
    match setting:
        case SqlSettings():
            return SqlDestination(
                setting.name,
                url=setting.url.get_secret_value(),
                table=setting.table,
                payments_table=setting.payments_table,
                create_tables=setting.create_tables,
                max_batch=setting.max_batch,
            )
        case HttpSettings():
            return HttpDestination(
                setting.name,
                url=setting.url,
                secret=setting.secret,
                headers=setting.headers,
                timeout_s=setting.timeout_s,
                concurrency=setting.concurrency,
                batch=setting.batch,
                max_batch=setting.max_batch,
            )
        case JsonlSettings():
            return JsonlDestination(setting.name, path=setting.path, max_batch=setting.max_batch)
        case PythonSettings():
            return PythonDestination.from_target(
                setting.name, setting.target, max_batch=setting.max_batch
            )
        case RedisSettings():
            return RedisStreamDestination(
                setting.name,
                url=setting.url,
                stream_prefix=setting.stream_prefix,
                maxlen=setting.maxlen,
                timeout_s=setting.timeout_s,
                max_batch=setting.max_batch,
            )
        case AmqpSettings():
            return AmqpDestination(
                setting.name,
                url=setting.url,
                exchange=setting.exchange,
                declare=setting.declare,
                queue=setting.queue,
                binding_key=setting.binding_key,
                timeout_s=setting.timeout_s,
                max_batch=setting.max_batch,
            )


def build_destinations(
    settings: Sequence[AnySettings],
) -> list[ConfiguredDestination]:
    """Make the destinations; a python target that cannot be imported fails here, naming it."""
    built: list[ConfiguredDestination] = []
    for setting in settings:
        try:
            destination = _build(setting)
        except DestinationConfigError as error:
            raise DestinationConfigError(f"destination {setting.name!r}: {error}") from None
        built.append(ConfiguredDestination(setting.name, setting.route, destination))
    return built
