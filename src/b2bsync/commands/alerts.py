"""`b2bsync alerts list` (the recorded firings and what is firing now) and `b2bsync alerts
test` (a test notification to every channel of every `[[alerts]]` entry). Channels are shown by
position and scheme only: their URLs hold secrets."""

from __future__ import annotations

import asyncio
import json
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
)
from b2bsync.config import Settings
from b2bsync.observability import configure_logging
from b2bsync.sync.alerts import AlertService

__all__ = ["alerts_app"]

alerts_app = typer.Typer(
    help="Alerts: the firings recorded, and a test notification to each channel.",
    no_args_is_help=True,
)


async def _listing(settings: Settings, store: str | None, limit: int) -> dict[str, Any]:
    db = await open_database(settings.database_url)
    try:
        async with db.transaction(readonly=True) as tx:
            repo = tx.alerts
            events = await repo.events(store, limit=limit)
            active = await repo.active(store)
    finally:
        await db.close()
    return {
        "alerts": [
            {
                "name": alert.name,
                "conditions": [condition.value for condition in alert.policy.conditions],
                "channels": alert.labels(),
                "quiet_period_s": alert.policy.quiet_period.total_seconds(),
            }
            for alert in settings.alerts
        ],
        "active": active,
        "events": [event.as_json() for event in events],
    }


@alerts_app.command("list")
def list_alerts(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    store: Annotated[str | None, typer.Option("--store", help="Only this store's firings.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest firings shown.")] = 50,
) -> None:
    """List the alert firings (newest first) and the conditions firing now."""
    settings = load_or_exit(config)
    listing = asyncio.run(_listing(settings, store, limit))
    if as_json:
        typer.echo(json.dumps(listing))
        return
    if not settings.alerts:
        out.print("No [[alerts]] is configured; nothing is evaluated.", highlight=False)
    for alert in listing["alerts"]:
        out.print(
            f"Alert [bold]{escape(alert['name'])}[/]: "
            + escape(
                f"{', '.join(alert['conditions'])} to {', '.join(alert['channels'])}, "
                f"quiet period {alert['quiet_period_s'] / 60:g} min"
            ),
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
    if listing["active"]:
        firing = ", ".join(
            f"{a['alert']}/{a['condition']} on {a['store']} since {a['since'][:19]}"
            for a in listing["active"]
        )
        out.print(f"Firing now: {firing}", highlight=False, soft_wrap=True)
    else:
        out.print("Firing now: nothing.", highlight=False)
    table = Table("at (UTC)", "alert", "condition", "store", "state", "message", "delivery")
    for event in listing["events"]:
        table.add_row(
            event["at"][:19].replace("T", " "),
            event["alert"],
            event["condition"],
            event["store"],
            event["state"],
            event["message"],
            event["delivery"] + (f" ({event['last_error']})" if event["last_error"] else ""),
        )
    if listing["events"]:
        out.print(table)
    else:
        out.print("No alert has fired yet.", highlight=False)


@alerts_app.command("test")
def send_test(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Send a test notification to every channel; exit 1 if any channel failed."""
    settings = load_or_exit(config)
    configure_logging(json_lines=as_json)
    if not settings.alerts:
        raise fail("no [[alerts]] is configured: there is no channel to test", 2)
    results = asyncio.run(AlertService(settings.alerts).test_channels())
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {"alert": r.alert, "channel": r.channel, "ok": r.ok, "error": r.error}
                    for r in results
                ]
            )
        )
    else:
        for result in results:
            verdict = (
                "[green]ok[/]" if result.ok else f"[red]failed[/]: {escape(result.error or '')}"
            )
            out.print(
                f"{escape(result.alert)} {escape(result.channel)}: {verdict}",
                markup=True,
                highlight=False,
            )
    if not all(result.ok for result in results):
        raise typer.Exit(1)
