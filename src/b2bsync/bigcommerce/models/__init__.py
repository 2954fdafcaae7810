"""Typed response models of the three APIs."""

from b2bsync.bigcommerce.models.b2b import (
    Amount,
    B2BOrder,
    B2BOrderProduct,
    Company,
    ExtraField,
    ExtraFieldConfig,
    Invoice,
    InvoiceCreated,
    Payment,
    PaymentLine,
    PaymentOperations,
    Receipt,
    ReceiptLine,
)
from b2bsync.bigcommerce.models.hooks import HooksAdmin, Webhook
from b2bsync.bigcommerce.models.metafields import BatchResult, Metafield
from b2bsync.bigcommerce.models.orders import (
    Address,
    Order,
    OrderCount,
    OrderProduct,
    OrderShippingAddress,
    OrderStatus,
    Shipment,
    ShipmentItem,
    StatusCount,
)

__all__ = [
    "Address",
    "Amount",
    "B2BOrder",
    "B2BOrderProduct",
    "BatchResult",
    "Company",
    "ExtraField",
    "ExtraFieldConfig",
    "HooksAdmin",
    "Invoice",
    "InvoiceCreated",
    "Metafield",
    "Order",
    "OrderCount",
    "OrderProduct",
    "OrderShippingAddress",
    "OrderStatus",
    "Payment",
    "PaymentLine",
    "PaymentOperations",
    "Receipt",
    "ReceiptLine",
    "Shipment",
    "ShipmentItem",
    "StatusCount",
    "Webhook",
]
