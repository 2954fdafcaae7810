"""Orders as JSON: the shape `b2bsync orders list|show --json` prints and the dashboard's
`/api/orders` answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from b2bsync.store.ledger import OrderDetail, OrderSummary
from b2bsync.store.reports import type_name

__all__ = ["detail_json", "summary_json"]


def summary_json(
    item: OrderSummary, invoice_numbers: Mapping[int, str] | None = None
) -> dict[str, Any]:
    """One ledger row as the JSON of `orders list`; with `invoice_numbers` (by invoice id) the
    numbers people know the invoices by go beside the ids."""
    shown = {
        "store": item.store,
        "order_id": item.order_id,
        "order_type": type_name(item.order_type),
        "state": item.sync_state.value,
        "status_id": item.status_id,
        "status": item.status,
        "company_id": item.company_id,
        "po_number": item.po_number,
        "invoice_ids": list(item.invoice_ids),
        "version": item.version,
        "is_archived": item.is_archived,
        "date_created": item.date_created.isoformat(),
        "date_modified": item.date_modified.isoformat(),
    }
    if invoice_numbers is not None:
        shown["invoice_numbers"] = [invoice_numbers.get(i) for i in item.invoice_ids]
    return shown


def detail_json(detail: OrderDetail) -> dict[str, Any]:
    """One order with its current record, versions, history and outbox rows."""
    entry = detail.entry
    return {
        "store": entry.store,
        "order_id": entry.order_id,
        "order_type": type_name(entry.order_type),
        "state": entry.sync_state.value,
        "status_id": entry.status_id,
        "status": entry.status,
        "company_id": entry.company_id,
        "po_number": entry.po_number,
        "invoice_ids": list(entry.invoice_ids),
        "version": entry.version,
        "is_archived": entry.is_archived,
        "origin": entry.record.origin.value if entry.record else None,
        "invoice_numbers": (
            [link.invoice_number for link in entry.record.invoices] if entry.record else []
        ),
        "classification": {
            "source": entry.classification_source.value if entry.classification_source else None,
            "reason": entry.classification_reason,
            "deadline": (
                entry.classification_deadline.isoformat() if entry.classification_deadline else None
            ),
            "next_check_at": entry.next_check_at.isoformat() if entry.next_check_at else None,
        },
        "record": entry.record.model_dump(mode="json") if entry.record else None,
        "versions": [
            {
                "version": version.version,
                "order_type": version.order_type.value,
                "changed_fields": list(version.changed_fields or ()),
                "created_at": version.created_at.isoformat(),
            }
            for version in detail.versions
        ],
        "events": [
            {
                "at": event.at.isoformat(),
                "event": event.event.value,
                "destination": event.destination,
                "detail": event.detail,
            }
            for event in detail.events
        ],
        "deliveries": [
            {
                "destination": row.destination,
                "version": row.version,
                "state": row.state.value,
                "attempts": row.attempts,
                "last_error": row.last_error,
                "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
            }
            for row in detail.outbox
        ],
    }
