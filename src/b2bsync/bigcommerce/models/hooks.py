"""V3 webhook models (`/v3/hooks`, `/v3/hooks/admin`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from b2bsync.bigcommerce._wire import LenientInt, OptionalDatetime
from b2bsync.bigcommerce.models.base import WireModel

__all__ = ["HooksAdmin", "Webhook"]


class Webhook(WireModel):
    """A registered webhook."""

    id: LenientInt
    client_id: str = ""
    store_hash: str = ""
    scope: str
    destination: str
    headers: dict[str, str] | None = None
    is_active: bool = True
    created_at: OptionalDatetime = None
    updated_at: OptionalDatetime = None


class HooksAdmin(WireModel):
    """`GET /v3/hooks/admin`: notification emails, hooks with their status, blocked domains."""

    emails: list[str] = Field(default_factory=list)
    hooks_list: list[dict[str, Any]] = Field(default_factory=list)
    blocked_domains: list[dict[str, Any]] = Field(default_factory=list)
