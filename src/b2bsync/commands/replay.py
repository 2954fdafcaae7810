"""`b2bsync replay`: send dead letters, or chosen orders, to their destinations again; or, with
`--skip`, give up on dead letters on purpose."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from b2bsync.commands.runtime import (
    ConfigOption,
    JsonOption,
    fail,
    load_or_exit,
    out,
    sync_context,
)
from b2bsync.config import Settings
from b2bsync.sync import deliver_due, replay_now, retry_quarantined, skip_dead

__all__ = ["replay"]


async def _replay(
    settings: Settings,
    order_ids: list[int] | None,
    dead_only: bool,
    destination: str | None,
    deliver: bool,
    skip: bool,
    quarantined: bool,
) -> dict[str, Any]:
    async with sync_context(settings) as ctx:
        if quarantined:
            retried = await retry_quarantined(ctx, ctx.clock())
            delivered = await deliver_due(ctx, ctx.clock()) if deliver else None
            return {
                "store": ctx.store,
                "released": retried.released,
                "still_bad": retried.still_bad,
                "unreadable": retried.unreadable,
                "new_versions": retried.processed.versions,
                "delivered": delivered.delivered if delivered is not None else None,
            }
        if skip:
            skipped = await skip_dead(ctx, order_ids, destination=destination)
            return {"store": ctx.store, "skipped": skipped}
        report = await replay_now(
            ctx, order_ids, dead_only=dead_only, destination=destination, deliver=deliver
        )
        return report.as_json()


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
    skip: Annotated[
        bool,
        typer.Option(
            "--skip", help="Skip the dead letters instead: never delivered, never retried."
        ),
    ] = False,
    quarantined: Annotated[
        bool,
        typer.Option(
            "--quarantined",
            help="Read every quarantined (malformed) record again, one API call each: fixed "
            "ones are processed, the others stay with their reason.",
        ),
    ] = False,
) -> None:
    """Send dead letters (or the chosen orders) again; destinations deduplicate by key.

    With --skip, give up on the dead letters (of the chosen orders) instead."""
    settings = load_or_exit(config)
    chosen = order_ids or None
    if quarantined and (chosen or skip):
        raise fail("--quarantined reads the quarantine again; it takes no order ids nor --skip", 2)
    report = asyncio.run(
        _replay(
            settings, chosen, dead_only or chosen is None, destination, deliver, skip, quarantined
        )
    )
    if as_json:
        typer.echo(json.dumps(report))
        return
    if quarantined:
        out.print(
            f"Quarantine of store {report['store']} read again: {report['released']} released, "
            f"{report['still_bad']} still malformed, {report['unreadable']} without a usable id; "
            f"{report['new_versions']} new versions"
            + (f", {report['delivered']} delivered." if report["delivered"] is not None else "."),
            highlight=False,
            soft_wrap=True,
        )
        return
    if skip:
        out.print(
            f"Skipped {report['skipped']} dead letter(s) of store {report['store']}.",
            highlight=False,
        )
        return
    line = f"Queued {report['queued']} outbox row(s) of store {report['store']} again"
    if deliver:
        line += (
            f"; {report['delivered']} delivered, {report['retried']} to retry, "
            f"{report['dead']} dead again"
        )
    out.print(line + ".", highlight=False)
