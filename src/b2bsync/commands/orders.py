"""`b2bsync orders list|show`: what the ledger knows, from the local database only (no API call)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.table import Table

from b2bsync.commands.runtime import (
    ConfigOption,
    JsonOption,
    fail,
    load_or_exit,
    open_database,
    out,
    store_or_exit,
)
from b2bsync.config import Settings
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.sync_state import SyncState
from b2bsync.store import OrderDetail, OrderFilter, OrderSummary

__all__ = ["orders_app", "summary_json"]

orders_app = typer.Typer(
    name="orders", help="List and show the orders in the ledger.", no_args_is_help=True
)

_ALL = 1_000_000_000


def _order_type(value: OrderType | None) -> str:
    # An order without a type yet (pending, held) is unclassified to the reader.
    return (value or OrderType.UNCLASSIFIED).value


def summary_json(item: OrderSummary) -> dict[str, Any]:
    """One ledger row as the JSON of `orders list`."""
    return {
        "store": item.store,
        "order_id": item.order_id,
        "order_type": _order_type(item.order_type),
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


def _store_filter(settings: Settings, store: str | None) -> str | None:
    if store is not None:
        return store
    if settings.store_configured:
        return store_or_exit(settings)
    return None


async def _list(
    settings: Settings, filters: OrderFilter, kind: OrderType | None, limit: int
) -> list[OrderSummary]:
    db = await open_database(settings.database_url)
    try:
        async with db.transaction(readonly=True) as tx:
            if kind is OrderType.UNCLASSIFIED:
                # Orders still pending have no type in the ledger; they are unclassified too.
                page = await tx.ledger.list_orders(filters, page_size=_ALL)
                items = [i for i in page.items if i.order_type in (None, OrderType.UNCLASSIFIED)]
                return items[:limit]
            page = await tx.ledger.list_orders(
                OrderFilter(**{**_fields(filters), "order_type": kind}), page_size=limit
            )
            return list(page.items)
    finally:
        await db.close()


def _fields(filters: OrderFilter) -> dict[str, Any]:
    return {name: getattr(filters, name) for name in filters.__dataclass_fields__}


@orders_app.command("list")
def list_orders(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    order_type: Annotated[
        OrderType | None, typer.Option("--type", "-t", help="Only orders of this type.")
    ] = None,
    state: Annotated[
        SyncState | None, typer.Option("--state", "-s", help="Only orders in this sync state.")
    ] = None,
    company: Annotated[int | None, typer.Option("--company", help="Only this company.")] = None,
    store: Annotated[
        str | None, typer.Option("--store", help="Store hash (default: the configured store).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="At most this many (0: all).")] = 50,
) -> None:
    """List the ledger's orders, newest first."""
    settings = load_or_exit(config)
    filters = OrderFilter(
        store=_store_filter(settings, store), sync_state=state, company_id=company
    )
    items = asyncio.run(_list(settings, filters, order_type, limit or _ALL))
    if as_json:
        typer.echo(json.dumps([summary_json(item) for item in items]))
        return
    table = Table("order", "type", "state", "status", "company", "PO", "invoices", "version")
    for item in items:
        table.add_row(
            str(item.order_id),
            _order_type(item.order_type),
            item.sync_state.value,
            f"{item.status_id} {item.status}".strip(),
            "" if item.company_id is None else str(item.company_id),
            item.po_number,
            ", ".join(map(str, item.invoice_ids)),
            str(item.version),
        )
    out.print(table)
    out.print(f"{len(items)} order(s)", highlight=False)


def detail_json(detail: OrderDetail) -> dict[str, Any]:
    """One order with its current record, versions, history and outbox rows."""
    entry = detail.entry
    return {
        "store": entry.store,
        "order_id": entry.order_id,
        "order_type": _order_type(entry.order_type),
        "state": entry.sync_state.value,
        "status_id": entry.status_id,
        "status": entry.status,
        "company_id": entry.company_id,
        "po_number": entry.po_number,
        "invoice_ids": list(entry.invoice_ids),
        "version": entry.version,
        "is_archived": entry.is_archived,
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


async def _show(settings: Settings, store: str | None, order_id: int) -> list[OrderDetail]:
    db = await open_database(settings.database_url)
    try:
        async with db.transaction(readonly=True) as tx:
            if store is not None:
                found = await tx.ledger.get_order(store, order_id)
                return [found] if found is not None else []
            page = await tx.ledger.list_orders(OrderFilter(search=str(order_id)), page_size=100)
            stores = sorted({item.store for item in page.items if item.order_id == order_id})
            details = [await tx.ledger.get_order(name, order_id) for name in stores]
            return [detail for detail in details if detail is not None]
    finally:
        await db.close()


@orders_app.command("show")
def show_order(
    order_id: Annotated[int, typer.Argument(help="The BigCommerce order id.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
    store: Annotated[
        str | None, typer.Option("--store", help="Store hash (default: the configured store).")
    ] = None,
) -> None:
    """Show one order: its current record, versions, history and deliveries."""
    settings = load_or_exit(config)
    found = asyncio.run(_show(settings, _store_filter(settings, store), order_id))
    if not found:
        raise fail(f"order {order_id} is not in the ledger")
    if len(found) > 1:
        stores = ", ".join(detail.entry.store for detail in found)
        raise fail(f"order {order_id} exists in several stores ({stores}); pass --store")
    shown = detail_json(found[0])
    if as_json:
        typer.echo(json.dumps(shown))
        return
    out.print(
        f"[bold]Order {shown['order_id']}[/] ({shown['store']}): {shown['order_type']}, "
        f"{shown['state']}, status {shown['status_id']} {shown['status']}, "
        f"version {shown['version']}",
        highlight=False,
    )
    classification = shown["classification"]
    out.print(
        f"Company {shown['company_id'] or '-'}, PO {shown['po_number'] or '-'}, invoices "
        f"{shown['invoice_ids'] or '-'}; classified by {classification['source'] or '-'}"
        f" ({classification['reason'] or 'no signal yet'})",
        highlight=False,
    )
    versions = Table("version", "type", "changed fields", "created", title="Versions")
    for version in shown["versions"]:
        versions.add_row(
            str(version["version"]),
            version["order_type"],
            ", ".join(version["changed_fields"]) or "(first)",
            version["created_at"],
        )
    deliveries = Table("destination", "version", "state", "attempts", "error", title="Deliveries")
    for row in shown["deliveries"]:
        deliveries.add_row(
            row["destination"],
            str(row["version"]),
            row["state"],
            str(row["attempts"]),
            row["last_error"] or "",
        )
    events = Table("at", "event", "destination", title="History")
    for event in shown["events"]:
        events.add_row(event["at"], event["event"], event["destination"] or "")
    out.print(versions, deliveries, events)
