"""`b2bsync push`: ERP → BigCommerce, from JSONL or CSV files (idempotent; bad rows reported)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.table import Table

from b2bsync.commands.runtime import ConfigOption, JsonOption, load_or_exit, out, sync_context
from b2bsync.config import Settings
from b2bsync.observability import configure_logging
from b2bsync.sync.loopback.inbound import (
    InvoicePushRow,
    OrderPushRow,
    Outcome,
    PushKind,
    PushReport,
    ShipmentPushRow,
    push_file,
)

__all__ = ["push_app"]

push_app = typer.Typer(
    help="Push ERP data into BigCommerce: paid orders, shipments, invoices (JSONL or CSV).",
    no_args_is_help=True,
)

FileArgument = Annotated[
    Path,
    typer.Argument(
        exists=True,
        dir_okay=False,
        readable=True,
        help="A .csv file, or JSONL (one object a line).",
    ),
]


async def _push(settings: Settings, kind: PushKind, path: Path) -> PushReport:
    async with sync_context(settings) as ctx:
        return await push_file(ctx, kind, path)


def _run(kind: PushKind, path: Path, config: Path | None, as_json: bool) -> None:
    configure_logging(json_lines=as_json)
    settings = load_or_exit(config)
    report = asyncio.run(_push(settings, kind, path))
    if as_json:
        typer.echo(json.dumps(report.as_json()))
    else:
        failed = report.failed
        if failed:
            table = Table("line", "key", "reason", title=f"{len(failed)} bad row(s) in {path}")
            for row in failed:
                table.add_row(str(row.line), row.key, row.detail)
            out.print(table)
        created = [row for row in report.rows if row.outcome is Outcome.CREATED]
        if created:
            table = Table("line", "key", _CREATED_ID[kind], title=f"{len(created)} created")
            for row in created:
                table.add_row(str(row.line), row.key, str(row.resource_id or ""))
            out.print(table)
        counts = ", ".join(f"{report.count(o)} {o.value}" for o in Outcome)
        out.print(f"{kind.value}: {counts}.", highlight=False)
    if report.failed:
        raise typer.Exit(1)


_CREATED_ID = {
    PushKind.ORDERS: "BigCommerce order id",
    PushKind.SHIPMENTS: "shipment id",
    PushKind.INVOICES: "invoice id",
}


def _fields(model: type[BaseModel]) -> str:
    """The row fields of `model` for --help: required ones marked with *."""
    return ", ".join(
        f"{name}*" if info.is_required() else name for name, info in model.model_fields.items()
    )


@push_app.command(
    "orders",
    help="Create paid orders placed outside the store (by external_order_id, never twice). "
    f"Row fields (* required): {_fields(OrderPushRow)}; addresses and lines are objects in JSONL, "
    "billing_*/shipping_* columns and one line per row in CSV.",
)
def orders(file: FileArgument, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    _run(PushKind.ORDERS, file, config, as_json)


@push_app.command(
    "shipments",
    help="Add shipments with tracking to existing orders (by tracking number, never twice). "
    f"Row fields (* required): {_fields(ShipmentPushRow)}.",
)
def shipments(file: FileArgument, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    _run(PushKind.SHIPMENTS, file, config, as_json)


@push_app.command(
    "invoices",
    help="Create or update B2B Edition invoices by external_id (details merged). "
    f"Row fields (* required): {_fields(InvoicePushRow)}.",
)
def invoices(file: FileArgument, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    _run(PushKind.INVOICES, file, config, as_json)
