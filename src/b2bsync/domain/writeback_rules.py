"""The write-back rule model: what b2bsync may write back for one order type, and how a list of
rule tables is validated. Pure data: reading a rules file is the configuration's job
(`b2bsync.config`), applying rules is `b2bsync.sync.loopback.writeback`'s."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

from b2bsync.domain.order_type import OrderType

__all__ = ["DEFAULT_RULES", "RulesError", "WritebackRule", "parse_rules"]


class WritebackRule(BaseModel):
    """What to write back for one order type. Templates may use `{order_id}`, `{version}`,
    `{external_order_id}`, `{po_number}`, `{company}` and `{invoices}` (for invoice payments:
    `INV-1001 ($250.00), INV-1002 ($80.00)`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_type: OrderType
    notes: bool = True
    """Write the marker line into `staff_notes`."""
    note_template: str = ""
    """The marker line's text after `[b2bsync] `; empty means the order type's default."""
    status_id: int | None = None
    """Move the order to this status (e.g. 10 Completed) when it is in an open status."""
    po_number_template: str | None = None
    """Set the B2B order's PO number to this (B2B orders only)."""
    extra_field: str | None = None
    """Write the note text into this B2B order extra field (B2B orders only)."""


DEFAULT_RULES: tuple[WritebackRule, ...] = (
    WritebackRule(order_type=OrderType.INVOICE_PAYMENT),
    WritebackRule(order_type=OrderType.ONLINE_ORDER),
)
"""Safe defaults: a marker line on invoice payments and online orders, nothing else."""


class RulesError(ValueError):
    """The write-back rules file is unreadable or names an unknown setting.

    A `ValueError`, since the domain imports nothing of b2bsync (not even its error root); the
    configuration loader turns it into a `ConfigError`."""


def parse_rules(tables: object, source: str) -> tuple[WritebackRule, ...]:
    """Rules from a list of tables (`[[rule]]` in a rules file, `[[writeback]]` in
    b2bsync.toml); `source` names where they came from in errors."""
    if not isinstance(tables, list) or not tables:
        raise RulesError(f"{source} has no rule tables")
    rules = []
    for position, table in enumerate(tables, start=1):
        try:
            rules.append(WritebackRule.model_validate(table))
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            raise RulesError(f"{source}: rule {position}, {where}: {first['msg']}") from None
    return tuple(rules)
