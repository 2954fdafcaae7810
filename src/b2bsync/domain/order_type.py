"""What kind of order a BigCommerce order is, and how B2B Edition spells it."""

from enum import StrEnum

ORDER_TYPE_METAFIELD_KEY = "orderType"
"""Key of the order metafield B2B Edition writes on every order (any namespace)."""


class MetafieldOrderType(StrEnum):
    """Values B2B Edition writes into the `orderType` order metafield."""

    ONLINE_ORDER = "online order"
    INVOICE_PAYMENT = "invoice payment"


class OrderType(StrEnum):
    """b2bsync's classification of an order."""

    ONLINE_ORDER = "online_order"
    INVOICE_PAYMENT = "invoice_payment"
    UNCLASSIFIED = "unclassified"
