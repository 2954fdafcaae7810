"""Process-wide logging set-up: structlog to stderr (stdout is for command output), console
lines for people or JSON for machines, debug only when asked.

The global options `b2bsync -v` and `b2bsync --log-format` (`set_log_preferences`) apply to
every command; each command then calls `configure_logging` with its own defaults."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from enum import StrEnum

import structlog

__all__ = ["LogFormat", "configure_logging", "set_log_preferences"]


class LogFormat(StrEnum):
    """How log lines are written."""

    AUTO = "auto"
    """JSON when stderr is not a terminal or the command serves machines, else console."""
    CONSOLE = "console"
    JSON = "json"


@dataclass(slots=True)
class _Preferences:
    verbose: bool = False
    log_format: LogFormat = LogFormat.AUTO


_preferences = _Preferences()


def set_log_preferences(*, verbose: bool, log_format: LogFormat) -> None:
    """Remember the global options for the command about to run."""
    _preferences.verbose, _preferences.log_format = verbose, log_format


def configure_logging(*, debug: bool = False, json_lines: bool = False) -> None:
    """Route structlog to stderr at info (debug with `debug` or `-v`) level; `json_lines` is the
    command's own default (a worker, `--json` output), which `--log-format` overrides."""
    chosen = _preferences.log_format
    as_json = chosen is LogFormat.JSON or (
        chosen is LogFormat.AUTO and (json_lines or not sys.stderr.isatty())
    )
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.DEBUG if debug or _preferences.verbose else logging.INFO
        ),
        # Resolved per call: whoever swaps sys.stderr (tests, daemons) gets the lines.
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )
