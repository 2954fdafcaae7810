"""`[[destinations]]` tables of `b2bsync.toml`, or a JSON array in `B2BSYNC_DESTINATIONS`. String
values may reference the environment as `${VAR}`, which is how secrets stay out of the file.
Every mistake is a `DestinationConfigError` naming the setting."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import RootModel, ValidationError

from b2bsync.config.env import expand_env
from b2bsync.config.validation import first_problem
from b2bsync.destinations.errors import DestinationConfigError
from b2bsync.destinations.registry import AnySettings, DestinationSettings

__all__ = ["DESTINATIONS_ENV", "load_destination_settings", "read_destination_settings"]

DESTINATIONS_ENV = "B2BSYNC_DESTINATIONS"
"""A JSON array of destination tables; when set it replaces the file's `[[destinations]]`."""

_TYPES = "'sql', 'http', 'jsonl', 'python', 'redis', 'amqp'"


class _OneDestination(RootModel[DestinationSettings]):
    pass


def _describe(index: int, raw: Mapping[str, Any]) -> str:
    label = f"destinations[{index}]"
    if isinstance(raw.get("name"), str):
        label += f" ({raw['name']!r})"
    return label


def load_destination_settings(
    raw: object, *, environ: Mapping[str, str] | None = None
) -> list[AnySettings]:
    """Validate a list of destination tables (as read from TOML or JSON), expanding `${VAR}`."""
    env = os.environ if environ is None else environ
    if not isinstance(raw, list):
        raise DestinationConfigError(
            f"destinations must be a list of tables, got {type(raw).__name__}"
        )
    settings: list[AnySettings] = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise DestinationConfigError(f"destinations[{index}] must be a table")
        label = _describe(index, item)
        expanded = expand_env(item, label, env, error=DestinationConfigError)
        try:
            settings.append(_OneDestination.model_validate(expanded).root)
        except ValidationError as error:
            problem = first_problem(error)
            loc = problem.loc
            if loc and loc[0] == expanded.get("type"):
                loc = loc[1:]
            setting = ".".join(loc) or "type"
            if problem.kind == "union_tag_not_found":
                reason = f"missing; expected one of {_TYPES}"
            elif problem.kind == "union_tag_invalid":
                reason = f"{expanded.get('type')!r} is not one of {_TYPES}"
            else:
                reason = problem.reason
            raise DestinationConfigError(f"{label}: {setting}: {reason}") from None
    names = [setting.name for setting in settings]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise DestinationConfigError(f"destination names must be unique: {duplicates}")
    return settings


def read_destination_settings(
    *, toml_path: Path | None = None, environ: Mapping[str, str] | None = None
) -> list[AnySettings]:
    """The configured destinations: `B2BSYNC_DESTINATIONS` (JSON) if set, else the
    `[[destinations]]` of `toml_path` (none when the file does not exist)."""
    env = os.environ if environ is None else environ
    if env.get(DESTINATIONS_ENV):
        try:
            raw = json.loads(env[DESTINATIONS_ENV])
        except json.JSONDecodeError as error:
            raise DestinationConfigError(f"{DESTINATIONS_ENV} is not valid JSON: {error}") from None
        return load_destination_settings(raw, environ=env)
    if toml_path is None or not toml_path.exists():
        return []
    try:
        document = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise DestinationConfigError(f"{toml_path} is not valid TOML: {error}") from None
    return load_destination_settings(document.get("destinations", []), environ=env)
