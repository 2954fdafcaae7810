"""The one `${VAR}` expander of the configuration: string values (also inside tables and
arrays) may name environment variables, which is how secrets stay out of the file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from b2bsync.errors import ConfigError

__all__ = ["expand_env"]

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(
    value: Any,
    where: str,
    environ: Mapping[str, str],
    *,
    error: type[ConfigError] = ConfigError,
) -> Any:
    """`value` with every `${VAR}` replaced from `environ`, in strings and, recursively, in the
    values of tables and arrays; other values unchanged. An unset variable raises `error`
    naming the setting (`where`, extended by the keys and indexes walked)."""
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            variable = match.group(1)
            if variable not in environ:
                raise error(
                    f"{where} refers to ${{{variable}}}, which is not set in the environment"
                )
            return environ[variable]

        return _REFERENCE.sub(lookup, value)
    if isinstance(value, Mapping):
        return {
            key: expand_env(item, f"{where}.{key}", environ, error=error)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            expand_env(item, f"{where}[{index}]", environ, error=error)
            for index, item in enumerate(value)
        ]
    return value
