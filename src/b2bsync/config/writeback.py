"""Write-back rules as configured: `[[writeback]]` (and `[[stores.writeback]]`) tables of
`b2bsync.toml`, or a rules file of `[[rule]]` tables given to `b2bsync writeback run --rules`.
The rule model itself is pure domain (`b2bsync.domain.writeback_rules`)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from b2bsync.domain.writeback_rules import RulesError, WritebackRule, parse_rules
from b2bsync.errors import ConfigError

__all__ = ["configured_rules", "load_rules"]


def configured_rules(tables: object, source: str) -> tuple[WritebackRule, ...]:
    """The rules of a configuration file's tables; a bad one is a `ConfigError` naming `source`
    and the rule."""
    try:
        return parse_rules(tables, source)
    except RulesError as error:
        raise ConfigError(str(error)) from None


def load_rules(path: Path) -> tuple[WritebackRule, ...]:
    """Rules from a TOML file of `[[rule]]` tables, e.g.

        [[rule]]
        order_type = "invoice_payment"
        status_id = 10

    An order type without a table gets no write-back; a file without tables is an error."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RulesError(f"cannot read write-back rules from {path}: {error}") from None
    return parse_rules(document.get("rule"), f"{path} [[rule]]")
