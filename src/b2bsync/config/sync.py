"""The `[sync]` table and its `B2BSYNC_*` environment overrides. `SyncOptions` states the
documented defaults once; the engine's `SyncSettings` takes them from here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from b2bsync.config.env import expand_env
from b2bsync.config.validation import setting_error
from b2bsync.domain.classification import UnclassifiedPolicy

__all__ = ["SYNC_ENV", "SyncOptions", "parse_since", "sync_options"]

SYNC_ENV = {
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
"""`[sync]` key -> the environment variable that overrides it."""


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


def sync_options(table: Mapping[str, Any], environ: Mapping[str, str]) -> SyncOptions:
    """The `[sync]` table (`${VAR}` expanded) overridden by its environment variables; a bad
    value is a `ConfigError` naming the variable when it came from there, else `sync.<key>`."""
    values = {key: expand_env(value, f"sync.{key}", environ) for key, value in table.items()}
    values |= {key: environ[name] for key, name in SYNC_ENV.items() if environ.get(name)}
    try:
        return SyncOptions.model_validate(values)
    except ValidationError as error:

        def name(key: str) -> str:
            if key in SYNC_ENV and environ.get(SYNC_ENV[key]):
                return SYNC_ENV[key]
            return f"sync.{key}"

        raise setting_error(error, name, expected=SYNC_ENV) from None
