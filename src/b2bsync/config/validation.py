"""The one translation of a pydantic `ValidationError` into the configuration's words: the first
problem, naming the setting as the user wrote it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from b2bsync.errors import ConfigError

__all__ = ["Problem", "first_problem", "setting_error"]


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing pydantic found wrong."""

    loc: tuple[str, ...]
    """Where, as field (or alias) names and indexes."""
    kind: str
    """pydantic's error type: `missing`, `extra_forbidden`, `union_tag_invalid`, ..."""
    reason: str
    """pydantic's message without its `Value error, ` prefix."""

    @property
    def field(self) -> str:
        """The top-level field (or alias) at fault, `?` when pydantic names none."""
        return self.loc[0] if self.loc else "?"


def first_problem(error: ValidationError) -> Problem:
    """The first error of `error`, in plain values."""
    first = error.errors(include_url=False)[0]
    return Problem(
        loc=tuple(str(part) for part in first["loc"]),
        kind=first["type"],
        reason=str(first["msg"]).removeprefix("Value error, "),
    )


def setting_error(
    error: ValidationError, name: Callable[[str], str], expected: Iterable[str] = ()
) -> ConfigError:
    """One line naming the first bad setting: `NAME is not set`, `NAME is not a setting;
    expected one of ...` or `NAME is malformed: reason`; `name` turns a field into the setting's
    name as the user wrote it (an environment variable, `sync.overlap_s`, `stores[0].hash`)."""
    problem = first_problem(error)
    setting = name(problem.field)
    if problem.kind == "missing":
        return ConfigError(f"{setting} is not set")
    if problem.kind == "extra_forbidden":
        return ConfigError(f"{setting} is not a setting; expected one of {', '.join(expected)}")
    return ConfigError(f"{setting} is malformed: {problem.reason}")
