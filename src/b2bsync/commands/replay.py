"""`b2bsync replay`: send dead letters, or chosen orders, to their destinations again."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from b2bsync.commands.runtime import ConfigOption, JsonOption, load_or_exit, out, sync_context
from b2bsync.config import Settings
from b2bsync.sync import deliver_due
from b2bsync.sync import replay as queue_again

__all__ = ["replay"]


async def _replay(
    settings: Settings,
    order_ids: list[int] | None,
    dead_only: bool,
    destination: str | None,
    deliver: bool,
) -> dict[str, Any]:
    async with sync_context(settings) as ctx:
        queued = await queue_again(ctx, order_ids, dead_only=dead_only, destination=destination)
        report: dict[str, Any] = {"store": ctx.store, "queued": queued}
        if deliver:
            summary = await deliver_due(ctx, ctx.clock())
            report |= {
                "delivered": summary.delivered,
                "retried": summary.retried,
                "dead": summary.dead,
            }
        return report


def replay(
    order_ids: Annotated[
        list[int] | None,
        typer.Argument(help="Orders to send again (default: every dead letter of the store)."),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    dead_only: Annotated[
        bool,
        typer.Option(
            "--dead-only",
            help="With order ids: only their dead rows (default: every row, delivered too).",
        ),
    ] = False,
    destination: Annotated[
        str | None, typer.Option("--destination", "-d", help="Only this destination.")
    ] = None,
    deliver: Annotated[
        bool,
        typer.Option("--deliver/--queue-only", help="Deliver now, or only queue for `sync`."),
    ] = True,
) -> None:
    """Send dead letters (or the chosen orders) again; destinations deduplicate by key."""
    settings = load_or_exit(config)
    chosen = order_ids or None
    report = asyncio.run(
        _replay(settings, chosen, dead_only or chosen is None, destination, deliver)
    )
    if as_json:
        typer.echo(json.dumps(report))
        return
    line = f"Queued {report['queued']} outbox row(s) of store {report['store']} again"
    if deliver:
        line += (
            f"; {report['delivered']} delivered, {report['retried']} to retry, "
            f"{report['dead']} dead again"
        )
    out.print(line + ".", highlight=False)
