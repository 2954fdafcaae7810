"""Extra fields the merchant configured for B2B orders and invoices, and the check of given values
against them (`routes/b2b_orders.py` and `routes/b2b_invoices.py` both take them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from b2bsync.sandbox.errors import B2BError
from b2bsync.sandbox.models import (
    ExtraField,
)


@dataclass(frozen=True, slots=True)
class ExtraFieldConfig:
    """One extra field the merchant configured for orders or invoices."""

    id: int
    field_name: str
    field_type: int  # 0 text, 1 multi-line text, 2 number, 3 dropdown
    is_required: bool = False
    is_unique: bool = False
    visible_to_enduser: bool = True
    default_value: str = ""
    maximum_length: int = 100
    number_of_rows: int = 0
    maximum_value: int = 0
    list_of_values: tuple[str, ...] = ()
    config_type: int = 2  # 1 built-in, 2 user-defined


def check_extra_fields(
    configs: Sequence[ExtraFieldConfig],
    given: Sequence[ExtraField],
    existing: Sequence[ExtraField] = (),
) -> list[ExtraField]:
    """Validate `given` against `configs` and merge it into `existing` (by field name).

    Raises 422 for unknown fields, values outside a dropdown's list, non-numbers in number
    fields, and required fields that end up without a value.
    """
    by_name = {config.field_name: config for config in configs}
    merged = {extra.field_name: extra.field_value for extra in existing}
    for extra in given:
        config = by_name.get(extra.field_name)
        if config is None:
            raise B2BError(422, f"{extra.field_name} is not a configured extra field")
        if config.field_type == 3 and extra.field_value not in config.list_of_values:
            raise B2BError(422, f"{extra.field_name} must be one of {list(config.list_of_values)}")
        if config.field_type == 2:
            try:
                Decimal(extra.field_value)
            except ArithmeticError:
                raise B2BError(422, f"{extra.field_name} must be a number") from None
        merged[extra.field_name] = extra.field_value
    for config in configs:
        if config.is_required and not merged.get(config.field_name):
            raise B2BError(422, f"{config.field_name} is a required extra field")
    return [ExtraField(name, value) for name, value in merged.items()]
