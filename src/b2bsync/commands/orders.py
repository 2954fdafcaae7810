"""`b2bsync orders list|show`: what the ledger knows, from the local database only (no API call)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Column, Table

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
from b2bsync.store import LedgerQuery, OrderDetail, OrderSummary, Page
from b2bsync.store.order_json import detail_json, summary_json
from b2bsync.store.quarantine import QuarantinedRecord
from b2bsync.store.reports import type_name

__all__ = ["orders_app"]

orders_app = typer.Typer(
    name="orders", help="List and show the orders in the ledger.", no_args_is_help=True
)

_ALL = 1_000_000_000

QUARANTINED = "quarantined"
"""`--state` value listing the quarantine instead of ledger rows."""

_STATES = (*(state.value for state in SyncState), QUARANTINED)


def _store_filter(settings: Settings, store: str | None) -> str | None:
    if store is not None:
        return store
    if settings.store_configured:
        return store_or_exit(settings)
    return None


async def _list(
    settings: Settings, filters: LedgerQuery, limit: int
) -> tuple[Page[OrderSummary], dict[tuple[str, int], str]]:
    """The page of orders, and the number of every invoice they name by (store, invoice id)."""
    db = await open_database(settings.database_url)
    try:
        async with db.transaction(readonly=True) as tx:
            page = await tx.ledger.list_orders(filters, page_size=limit)
            numbers: dict[tuple[str, int], str] = {}
            for store in {item.store for item in page.items}:
                ids = {i for item in page.items if item.store == store for i in item.invoice_ids}
                for invoice_id, row in (await tx.signals.invoices(store, ids)).items():
                    numbers[(store, invoice_id)] = row.number
            return page, numbers
    finally:
        await db.close()


@orders_app.command("list")
def list_orders(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    order_type: Annotated[
        OrderType | None, typer.Option("--type", "-t", help="Only orders of this type.")
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            "-s",
            help=f"Only orders in this sync state ({', '.join(_STATES)}); `{QUARANTINED}` "
            "lists the malformed records set aside instead.",
        ),
    ] = None,
    company: Annotated[int | None, typer.Option("--company", help="Only this company.")] = None,
    store: Annotated[
        str | None, typer.Option("--store", help="Store hash (default: the configured store).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="At most this many (0: all).")] = 50,
) -> None:
    """List the ledger's orders, newest first."""
    if state is not None and state not in _STATES:
        raise fail(f"--state must be one of {', '.join(_STATES)}; got {state!r}", 2)
    settings = load_or_exit(config)
    if state == QUARANTINED:
        _list_quarantined(settings, _store_filter(settings, store), limit or _ALL, as_json)
        return
    filters = LedgerQuery(
        store=_store_filter(settings, store),
        order_type=order_type,
        sync_state=SyncState(state) if state is not None else None,
        company_id=company,
    )
    page, numbers = asyncio.run(_list(settings, filters, limit or _ALL))
    items = list(page.items)

    def numbers_of(item: OrderSummary) -> dict[int, str]:
        return {i: numbers[(item.store, i)] for i in item.invoice_ids if (item.store, i) in numbers}

    if as_json:
        typer.echo(json.dumps([summary_json(item, numbers_of(item)) for item in items]))
        return
    # The type is what a reader scans for: it never wraps or shrinks; free text gives way.
    table = Table(
        "order",
        Column("type", no_wrap=True, min_width=len("invoice_payment")),
        Column("state", no_wrap=True),
        "status",
        "company",
        "PO",
        "invoices",
        "version",
    )
    for item in items:
        table.add_row(
            str(item.order_id),
            type_name(item.order_type),
            item.sync_state.value,
            f"{item.status_id} {item.status}".strip(),
            "" if item.company_id is None else str(item.company_id),
            item.po_number,
            # People know invoices by number; the id shows only while its number is unknown.
            ", ".join(numbers_of(item).get(i, f"id {i}") for i in item.invoice_ids),
            str(item.version),
        )
    out.print(table)
    if page.total > len(items):
        out.print(
            f"Showing the newest {len(items)} of {page.total} orders (--limit N for more, "
            "--limit 0 for all).",
            highlight=False,
        )
    else:
        out.print(f"{page.total} order(s)", highlight=False)


async def _quarantined(
    settings: Settings, store: str | None, order_id: int | None, limit: int
) -> list[QuarantinedRecord]:
    db = await open_database(settings.database_url)
    try:
        async with db.transaction(readonly=True) as tx:
            return await tx.quarantine.records(store, order_id=order_id, limit=limit)
    finally:
        await db.close()


def _quarantine_table(records: list[QuarantinedRecord], title: str | None = None) -> Table:
    table = Table("stream", "record", "order", "reason", "last seen", "seen", title=title)
    for record in records:
        table.add_row(
            str(record.stream),
            record.key,
            "" if record.order_id is None else str(record.order_id),
            record.reason,
            record.last_seen_at.strftime("%Y-%m-%d %H:%M:%S"),
            str(record.times_seen),
        )
    return table


def _list_quarantined(settings: Settings, store: str | None, limit: int, as_json: bool) -> None:
    records = asyncio.run(_quarantined(settings, store, None, limit))
    if as_json:
        typer.echo(json.dumps([record.as_json() for record in records]))
        return
    out.print(_quarantine_table(records))
    out.print(
        f"{len(records)} quarantined record(s); `b2bsync replay --quarantined` reads them again.",
        highlight=False,
    )


async def _show(settings: Settings, store: str | None, order_id: int) -> list[OrderDetail]:
    db = await open_database(settings.database_url)
    try:
        async with db.transaction(readonly=True) as tx:
            if store is not None:
                found = await tx.ledger.get_order(store, order_id)
                return [found] if found is not None else []
            page = await tx.ledger.list_orders(LedgerQuery(search=str(order_id)), page_size=100)
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
    chosen = _store_filter(settings, store)
    found = asyncio.run(_show(settings, chosen, order_id))
    quarantined = asyncio.run(_quarantined(settings, chosen, order_id, _ALL))
    if not found and quarantined:
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "order_id": order_id,
                        "quarantined": [record.as_json() for record in quarantined],
                    }
                )
            )
            return
        out.print(
            f"Order {order_id} is not in the ledger: its record was set aside as malformed.",
            highlight=False,
        )
        out.print(_quarantine_table(quarantined, "Quarantined"))
        return
    if not found:
        raise fail(f"order {order_id} is not in the ledger")
    if len(found) > 1:
        stores = ", ".join(detail.entry.store for detail in found)
        raise fail(f"order {order_id} exists in several stores ({stores}); pass --store")
    shown = detail_json(found[0])
    mine = [record for record in quarantined if record.store == shown["store"]]
    if as_json:
        typer.echo(json.dumps({**shown, "quarantined": [r.as_json() for r in mine]}))
        return
    out.print(
        f"[bold]Order {shown['order_id']}[/] "
        + escape(
            f"({shown['store']}): {shown['order_type']}, "
            f"{shown['state']}, status {shown['status_id']} {shown['status']}, "
            f"version {shown['version']}"
            + (f", origin {shown['origin']}" if shown["origin"] else "")
        ),
        markup=True,
        highlight=False,
    )
    classification = shown["classification"]
    out.print(
        f"Company {shown['company_id'] or '-'}, PO {shown['po_number'] or '-'}, invoices "
        f"{', '.join(map(str, shown['invoice_numbers'])) or '-'}; "
        f"classified by {classification['source'] or '-'}"
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
    if mine:
        out.print(_quarantine_table(mine, "Quarantined (malformed records of this order)"))
