"""Base classes of the response models: unknown fields are kept, never rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = ["B2BModel", "WireModel"]


class WireModel(BaseModel):
    """A snake_case API object (V2, V3). New fields BigCommerce adds are kept in extras;
    numbers arriving where text is documented are accepted as text."""

    model_config = ConfigDict(
        extra="allow", frozen=True, coerce_numbers_to_str=True, populate_by_name=True
    )


class B2BModel(WireModel):
    """A camelCase B2B Edition object; Python names are snake_case."""

    model_config = ConfigDict(alias_generator=to_camel)
