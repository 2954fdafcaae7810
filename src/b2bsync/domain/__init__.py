"""Canonical order model and pure decision functions. No I/O, no heavy imports."""

from b2bsync.domain.order_type import ORDER_TYPE_METAFIELD_KEY, MetafieldOrderType, OrderType

__all__ = ["ORDER_TYPE_METAFIELD_KEY", "MetafieldOrderType", "OrderType"]
