"""Where an order came from: placed in the store, pushed in by b2bsync from the ERP, or created
by another system through the API. An ERP must not receive as a new sale an order it created
itself, so routing looks at this (`Route.origins`)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["PUSHED_EXTERNAL_SOURCE", "OrderOrigin", "origin_of"]

PUSHED_EXTERNAL_SOURCE = "b2bsync"
"""`external_source` b2bsync gives the orders it creates (`b2bsync push orders`) unless a row
names its own; BigCommerce asks apps to put their app id there."""


class OrderOrigin(StrEnum):
    STORE = "store"
    """Placed in BigCommerce (storefront, B2B buyer portal, control panel)."""
    ERP_PUSH = "erp_push"
    """Created by `b2bsync push orders` from the ERP's rows."""
    EXTERNAL = "external"
    """Created through the API by another system (its own `external_source`)."""


def origin_of(external_source: str, *, pushed: bool = False) -> OrderOrigin:
    """The origin of an order with this `external_source`; `pushed` when b2bsync's push log
    has it (a pushed row may name its own source)."""
    source = external_source.strip()
    if pushed or source == PUSHED_EXTERNAL_SOURCE:
        return OrderOrigin.ERP_PUSH
    return OrderOrigin.EXTERNAL if source else OrderOrigin.STORE
