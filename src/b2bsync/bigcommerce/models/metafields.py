"""V3 order metafield models."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from b2bsync.bigcommerce._wire import IsoDatetime, LenientInt, OptionalDatetime
from b2bsync.bigcommerce.models.base import WireModel

__all__ = ["BatchResult", "Metafield"]


class Metafield(WireModel):
    """An order metafield (`Metafield` in orders.v3.yml)."""

    id: LenientInt
    key: str
    value: str
    namespace: str
    permission_set: str = ""
    resource_type: str = "order"
    resource_id: LenientInt
    description: str = ""
    date_created: IsoDatetime | None = None
    date_modified: OptionalDatetime = None
    owner_client_id: str | None = None


class BatchResult(WireModel):
    """The answer of a batch create/update/delete: what succeeded and what failed."""

    data: list[Any] = Field(default_factory=list)
    errors: list[Any] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)

    def metafields(self) -> list[Metafield]:
        """The created or updated metafields (batch delete answers with ids only)."""
        return [Metafield.model_validate(item) for item in self.data if isinstance(item, dict)]
