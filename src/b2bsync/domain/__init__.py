"""Canonical order model and pure decision functions. No I/O, no heavy imports."""

from b2bsync.domain.classification import (
    Classification,
    Signals,
    SignalSource,
    UnclassifiedPolicy,
    classify,
    classify_after_deadline,
)
from b2bsync.domain.fingerprint import WRITEBACK_MARKER, content_hash, strip_writeback_lines
from b2bsync.domain.order_type import ORDER_TYPE_METAFIELD_KEY, MetafieldOrderType, OrderType
from b2bsync.domain.records import Address, B2BInfo, InvoiceLink, InvoiceRole, LineItem, OrderRecord
from b2bsync.domain.sync_state import SyncState
from b2bsync.domain.watermark import (
    PageQuery,
    ScanCursor,
    advance_watermark,
    scan_lower_bound,
)

__all__ = [
    "ORDER_TYPE_METAFIELD_KEY",
    "WRITEBACK_MARKER",
    "Address",
    "B2BInfo",
    "Classification",
    "InvoiceLink",
    "InvoiceRole",
    "LineItem",
    "MetafieldOrderType",
    "OrderRecord",
    "OrderType",
    "PageQuery",
    "ScanCursor",
    "SignalSource",
    "Signals",
    "SyncState",
    "UnclassifiedPolicy",
    "advance_watermark",
    "classify",
    "classify_after_deadline",
    "content_hash",
    "scan_lower_bound",
    "strip_writeback_lines",
]
