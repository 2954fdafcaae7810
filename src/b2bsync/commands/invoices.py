"""`b2bsync invoices`: the Invoice Portal reconciliation report and its actions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from b2bsync.bigcommerce import BigCommerceError
from b2bsync.commands.runtime import ConfigOption, JsonOption, fail, load_or_exit, out, sync_context
from b2bsync.config import Settings
from b2bsync.observability import configure_logging
from b2bsync.sync.context import SyncContext
from b2bsync.sync.loopback.invoices import (
    ActionRefused,
    DiscrepancyKind,
    create_invoice_from_order,
    reconcile,
    set_order_fields,
    set_payment_status,
)

__all__ = ["invoices_app"]

invoices_app = typer.Typer(
    help="Invoice Portal: reconcile payments, orders and invoices; act on them.",
    no_args_is_help=True,
)

T = TypeVar("T")


def _act(settings: Settings, action: Callable[[SyncContext], Awaitable[T]]) -> T:
    """Run `action` in a sync context; a refusal or API error exits 1 with its reason."""

    configure_logging()

    async def run() -> T:
        async with sync_context(settings) as ctx:
            return await action(ctx)

    try:
        return asyncio.run(run())
    except (ActionRefused, BigCommerceError) as error:
        raise fail(str(error)) from None


@invoices_app.command("reconcile")
def reconcile_command(
    days: Annotated[
        int, typer.Option("--days", min=0, help="Online orders older than this need an invoice.")
    ] = 7,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Report where invoices, payments and orders disagree (run `b2bsync sync` first).

    Invoice payments without payment, payments without order, wrong open balances and
    uninvoiced online orders; the orders come from the ledger."""
    settings = load_or_exit(config)
    report = _act(settings, lambda ctx: reconcile(ctx, invoice_after=timedelta(days=days)))
    if as_json:
        typer.echo(json.dumps(report.as_json()))
        return
    table = Table("kind", "order", "payment", "invoice", "detail", title="Invoice Portal")
    for item in report.discrepancies:
        table.add_row(
            item.kind.value,
            str(item.order_id or ""),
            str(item.payment_id or ""),
            str(item.invoice_id or ""),
            item.detail,
        )
    out.print(table)
    out.print(
        f"{len(report.discrepancies)} discrepancies among {report.payments} payments, "
        f"{report.invoices} invoices and {report.invoice_payment_orders} invoice payment orders.",
        highlight=False,
    )
    for kind in DiscrepancyKind:
        found = len(report.of(kind))
        if found:
            out.print(f"  {found} {kind.value}: {kind.rule(days)}.", highlight=False)


@invoices_app.command("create-from-order")
def create_from_order(
    order_id: Annotated[int, typer.Argument(help="The BigCommerce id of an online B2B order.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create the invoice of an online order (refused if it has one or is an invoice payment)."""
    settings = load_or_exit(config)
    created = _act(settings, lambda ctx: create_invoice_from_order(ctx, order_id))
    if as_json:
        typer.echo(
            json.dumps({"invoice_id": created.invoice_id, "invoice_number": created.invoice_number})
        )
        return
    out.print(f"Order {order_id} invoiced as {created.invoice_number} (id {created.invoice_id}).")


@invoices_app.command("payment-status")
def payment_status(
    payment_id: Annotated[int, typer.Argument(help="The Invoice Portal payment id.")],
    status: Annotated[
        int, typer.Argument(min=1, max=4, help="1 awaiting, 2 processing, 3 completed, 4 refunded")
    ],
    config: ConfigOption = None,
) -> None:
    """Move a payment's processing status, if B2B Edition allows it now."""
    settings = load_or_exit(config)
    before = _act(settings, lambda ctx: set_payment_status(ctx, payment_id, status))
    out.print(f"Payment {payment_id}: processing status {before.processing_status} → {status}.")


def _fields(values: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name.strip():
            raise fail(f"--field takes NAME=VALUE, not {value!r}", 2)
        fields[name.strip()] = text
    return fields


@invoices_app.command("set-fields")
def set_fields(
    order_id: Annotated[int, typer.Argument(help="The BigCommerce order id.")],
    po_number: Annotated[str | None, typer.Option("--po", help="The new PO number.")] = None,
    field: Annotated[
        list[str] | None, typer.Option("--field", help="An extra field, NAME=VALUE (repeatable).")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set a B2B order's PO number and/or extra fields (only what differs is written)."""
    settings = load_or_exit(config)
    extra = _fields(field or [])
    entries = _act(
        settings,
        lambda ctx: set_order_fields(ctx, order_id, po_number=po_number, extra_fields=extra),
    )
    rows: list[dict[str, Any]] = [
        {"target": e.target, "before": e.before, "after": e.after} for e in entries
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        out.print(f"Order {order_id} already has these values.")
    for row in rows:
        out.print(f"{row['target']}: {row['before']!r} → {row['after']!r}", highlight=False)
