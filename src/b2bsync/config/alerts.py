"""`[[alerts]]` tables of `b2bsync.toml`: which conditions to watch, the Apprise URLs of the
channels to tell, the quiet period and the thresholds. Channel URLs carry secrets (webhook
tokens, SMTP passwords), so they come from `${VAR}` references or `channel_files` and are kept
as `SecretStr`. Pure parsing: no network, no database."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from b2bsync.config.env import expand_env
from b2bsync.domain.alerts import AlertPolicy, Condition, Thresholds
from b2bsync.errors import ConfigError

__all__ = ["AlertSettings", "channel_label", "parse_alerts", "parse_duration"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d)?")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")

_DURATIONS = ("quiet_period", "destination_failing_after", "lag_threshold", "send_timeout")
_COUNTS = ("dead_letters_threshold", "held_threshold", "quarantined_threshold", "quota_429s")
_KEYS = ("name", "channels", "channel_files", "conditions", *_DURATIONS, *_COUNTS)

DEFAULT_QUIET_PERIOD = timedelta(minutes=30)
DEFAULT_SEND_TIMEOUT = timedelta(seconds=10)


def parse_duration(value: Any, where: str) -> timedelta:
    """`"30m"`, `"2h"`, `"90s"`, `"1d"` or a number of seconds, as a positive `timedelta`;
    `ConfigError` naming `where` otherwise."""
    if isinstance(value, bool):
        raise ConfigError(f"{where} is malformed: expected a duration such as 30m, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.fullmatch(str(value).strip())
        if match is None:
            raise ConfigError(
                f"{where} is malformed: expected a duration such as 90s, 30m, 2h or 1d, "
                f"got {value!r}"
            )
        seconds = float(match[1]) * _UNITS[match[2] or "s"]
    if seconds <= 0:
        raise ConfigError(f"{where} must be longer than zero")
    return timedelta(seconds=seconds)


def channel_label(index: int, url: SecretStr) -> str:
    """How a channel is named in logs, pages and the ledger: its position and scheme only,
    since anything after the scheme may be a token."""
    scheme = urlsplit(url.get_secret_value()).scheme or "?"
    return f"channel {index + 1} ({scheme})"


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """One `[[alerts]]` entry."""

    policy: AlertPolicy
    channels: tuple[SecretStr, ...]
    """Apprise URLs; secret, since they hold tokens and passwords."""
    send_timeout: timedelta = DEFAULT_SEND_TIMEOUT
    """How long one channel may take to accept a notification."""

    @property
    def name(self) -> str:
        """The alert's name, as `[[alerts]] name` gives it."""
        return self.policy.name

    def labels(self) -> list[str]:
        """The channels as they may be shown: `channel 1 (json)`, ..."""
        return [channel_label(index, url) for index, url in enumerate(self.channels)]


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} must be a list of strings")
    return list(value)


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where} must be a whole number of at least 1, got {value!r}")
    return int(value)


def _channels(table: Mapping[str, Any], where: str, environ: Mapping[str, str]) -> list[SecretStr]:
    channels: list[SecretStr] = []
    for index, raw in enumerate(_strings(table.get("channels", []), f"{where}.channels")):
        url = str(expand_env(raw, f"{where}.channels[{index}]", environ)).strip()
        channels.append(_checked_url(url, f"{where}.channels[{index}]"))
    for index, raw in enumerate(_strings(table.get("channel_files", []), f"{where}.channel_files")):
        path = Path(str(expand_env(raw, f"{where}.channel_files[{index}]", environ)))
        try:
            url = path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(
                f"{where}.channel_files[{index}]: cannot read {path}: {error.strerror}"
            ) from None
        channels.append(_checked_url(url, f"{where}.channel_files[{index}]"))
    if not channels:
        raise ConfigError(f"{where} needs at least one entry in channels or channel_files")
    return channels


def _checked_url(url: str, where: str) -> SecretStr:
    # The message names the setting, never the value: it may hold a token.
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", url):
        raise ConfigError(f"{where} is not an Apprise URL (expected scheme://...)")
    return SecretStr(url)


def _conditions(value: Any, where: str) -> tuple[Condition, ...]:
    names = _strings(value, where)
    known = [condition.value for condition in Condition]
    for name in names:
        if name not in known:
            raise ConfigError(
                f"{where}: unknown condition {name!r}; expected one of {', '.join(known)}"
            )
    if not names:
        raise ConfigError(f"{where} needs at least one condition")
    return tuple(dict.fromkeys(Condition(name) for name in names))


def _one(table: Any, index: int, environ: Mapping[str, str]) -> AlertSettings:
    where = f"alerts[{index}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}.{unknown[0]} is not a setting; expected one of {', '.join(_KEYS)}"
        )
    name = table.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(f"{where}.name must be letters, digits, '.', '-' or '_' (e.g. ops)")
    where = f"alerts {name!r}"
    if "conditions" not in table:
        raise ConfigError(f"{where}.conditions is not set")
    durations = {
        key: parse_duration(expand_env(table[key], f"{where}.{key}", environ), f"{where}.{key}")
        for key in _DURATIONS
        if key in table
    }
    counts = {key: _count(table[key], f"{where}.{key}") for key in _COUNTS if key in table}
    defaults = Thresholds()
    thresholds = Thresholds(
        dead_letters=counts.get("dead_letters_threshold", defaults.dead_letters),
        destination_failing_after=durations.get(
            "destination_failing_after", defaults.destination_failing_after
        ),
        held=counts.get("held_threshold", defaults.held),
        quarantined=counts.get("quarantined_threshold", defaults.quarantined),
        lag=durations.get("lag_threshold", defaults.lag),
        quota_429s=counts.get("quota_429s", defaults.quota_429s),
    )
    return AlertSettings(
        policy=AlertPolicy(
            name=name,
            conditions=_conditions(table["conditions"], f"{where}.conditions"),
            quiet_period=durations.get("quiet_period", DEFAULT_QUIET_PERIOD),
            thresholds=thresholds,
        ),
        channels=tuple(_channels(table, where, environ)),
        send_timeout=durations.get("send_timeout", DEFAULT_SEND_TIMEOUT),
    )


def parse_alerts(tables: Any, environ: Mapping[str, str]) -> tuple[AlertSettings, ...]:
    """The `[[alerts]]` entries; `ConfigError` naming the first bad setting (an unknown
    condition, a missing `${VAR}`, a repeated name, ...)."""
    if not isinstance(tables, Sequence) or isinstance(tables, str | bytes):
        raise ConfigError("alerts must be an array of tables")
    alerts = [_one(table, index, environ) for index, table in enumerate(tables)]
    seen: set[str] = set()
    for alert in alerts:
        if alert.name in seen:
            raise ConfigError(f"alerts: the name {alert.name!r} is used twice")
        seen.add(alert.name)
    return tuple(alerts)
