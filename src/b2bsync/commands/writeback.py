"""`b2bsync writeback`: apply the write-back rules (or show them with `--dry-run`), and show
what b2bsync wrote to an order."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from b2bsync.commands.runtime import (
    ConfigOption,
    JsonOption,
    fail,
    load_or_exit,
    open_database,
    out,
    store_or_exit,
    sync_context,
)
from b2bsync.config import Settings, load_rules
from b2bsync.domain.writeback_rules import DEFAULT_RULES, RulesError, WritebackRule
from b2bsync.observability import configure_logging
from b2bsync.sync.loopback.writeback import WritebackReport, run_writebacks, writeback_history

__all__ = ["writeback_app"]

writeback_app = typer.Typer(
    help="Write order types and ERP outcomes back into BigCommerce, without echo.",
    no_args_is_help=True,
)


def _report_json(report: WritebackReport) -> dict[str, Any]:
    return {
        "dry_run": report.dry_run,
        "unchanged": report.unchanged,
        "failed": {str(order_id): reason for order_id, reason in report.failed.items()},
        "writes": [
            {
                "order_id": write.order_id,
                "order_type": write.order_type.value,
                "changes": [
                    {"target": c.target, "before": c.before, "after": c.after}
                    for c in write.changes
                ],
            }
            for write in report.writes
        ],
    }


async def _run(
    settings: Settings, rules: tuple[WritebackRule, ...], dry_run: bool, orders: list[int] | None
) -> WritebackReport:
    async with sync_context(settings) as ctx:
        return await run_writebacks(ctx, rules, dry_run=dry_run, order_ids=orders)


def _configured_rules(settings: Settings) -> tuple[WritebackRule, ...]:
    """The rules of the store this command works on (the first)."""
    if settings.stores:
        return settings.stores[0].writeback_rules(settings.writeback_rules)
    return settings.writeback_rules


@writeback_app.command("run")
def run(
    order_ids: Annotated[
        list[int] | None, typer.Argument(help="Only these orders (default: every ruled one).")
    ] = None,
    rules_file: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            # typer renders help as rich markup, where [rule] would be a tag.
            help=escape(
                "TOML file of [[rule]] tables (default: [[writeback]] in b2bsync.toml, "
                "else notes only)."
            ),
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what the rules would write; write nothing.")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Apply the write-back rules to the synced orders."""
    configure_logging(json_lines=as_json)
    settings = load_or_exit(config)
    try:
        rules = (
            load_rules(rules_file)
            if rules_file is not None
            else _configured_rules(settings) or DEFAULT_RULES
        )
    except RulesError as error:
        raise fail(str(error), 2) from None
    report = asyncio.run(_run(settings, rules, dry_run, order_ids or None))
    if as_json:
        typer.echo(json.dumps(_report_json(report)))
    else:
        table = Table(
            "order", "field", "before", "after", title="would write" if dry_run else "wrote"
        )
        for write in report.writes:
            for change in write.changes:
                table.add_row(str(write.order_id), change.target, change.before or "", change.after)
        out.print(table)
        out.print(
            f"{len(report.writes)} order(s) {'to change' if dry_run else 'changed'}, "
            f"{report.unchanged} already satisfied, {len(report.failed)} failed.",
            highlight=False,
        )
        for order_id, reason in report.failed.items():
            out.print(f"order {order_id}: {reason}", highlight=False)
    if report.failed:
        raise typer.Exit(1)


async def _history(settings: Settings, store: str, order_id: int) -> list[dict[str, Any]]:
    database = await open_database(settings.database_url)
    try:
        entries = await writeback_history(database, store, order_id)
    finally:
        await database.close()
    return [
        {
            "at": entry.at.isoformat(),
            "source": entry.source,
            "target": entry.target,
            "before": entry.before,
            "after": entry.after,
        }
        for entry in entries
    ]


@writeback_app.command("log")
def history(
    order_id: Annotated[int, typer.Argument(help="The BigCommerce order id.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every write b2bsync made to one order, with before and after."""
    configure_logging(json_lines=as_json)
    settings = load_or_exit(config)
    rows = asyncio.run(_history(settings, store_or_exit(settings), order_id))
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table("at", "by", "field", "before", "after", title=f"writes to order {order_id}")
    for row in rows:
        table.add_row(
            row["at"], row["source"], row["target"], row["before"] or "", row["after"] or ""
        )
    out.print(table)
