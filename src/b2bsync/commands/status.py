"""`b2bsync status`: watermarks and lag, orders by type and state, outbox depth, dead letters and
the store's rate budget."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx2
import typer
from rich.markup import escape
from rich.table import Table

from b2bsync.bigcommerce import BigCommerceClient, BigCommerceError, Family, GovernorRegistry
from b2bsync.commands.runtime import (
    ConfigOption,
    JsonOption,
    fail,
    load_or_exit,
    open_database,
    out,
    store_or_exit,
)
from b2bsync.config import ConfigError, Settings
from b2bsync.store import OutboxState, display_url
from b2bsync.sync.status import ReadModel

__all__ = ["status"]

_QUARANTINE_SHOWN = 20
"""Quarantined records listed by `status` (newest first); `--json` carries the same."""


async def _rate_budget(settings: Settings, reads: ReadModel) -> dict[str, Any]:
    """One cheap call (`GET /v2/orders/count`) tells what is left of the store API window;
    `reads` reads it from the call's own governors."""
    try:
        store = settings.bigcommerce()
    except ConfigError as error:
        return {"error": str(error)}
    async with httpx2.AsyncClient(timeout=store.timeout_s) as http:
        client = BigCommerceClient.from_settings(store, http_client=http, governors=reads.governors)
        try:
            await client.orders.count()
        except BigCommerceError as error:
            return {"error": str(error)}
    for snapshot in reads.rate_limits(None):
        if snapshot.family is Family.STORE:
            return {
                "quota": snapshot.quota,
                "left": snapshot.left,
                "window_s": snapshot.window_s,
                "reset_in_s": None
                if snapshot.reset_in_s is None
                else round(snapshot.reset_in_s, 1),
            }
    return {"error": "the store API sent no rate-limit headers"}


async def _report(settings: Settings, store: str | None, probe: bool) -> dict[str, Any]:
    db = await open_database(settings.database_url)
    # Its own governors: the probe below reads a fresh window, not this process's other calls.
    reads = ReadModel(db, GovernorRegistry())
    try:
        ledger = await reads.ledger(store, datetime.now(UTC))
        webhooks = (await reads.webhooks(store)).as_dict() if store is not None else None
        quarantine = await reads.quarantine(store, _QUARANTINE_SHOWN)
    finally:
        await db.close()
    figures = ledger.as_json()
    orders_mark = next(iter(ledger.orders_watermarks), None)
    budget = await _rate_budget(settings, reads) if probe else None
    return {
        "store": store,
        "database": display_url(settings.database_url),
        "orders": figures["orders"],
        "by_type": figures["by_type"],
        "by_state": figures["by_state"],
        "lag_s": orders_mark.lag_s if orders_mark else None,
        "watermarks": figures["watermarks"],
        "outbox": figures["outbox"],
        "outbox_depth": figures["outbox_depth"],
        "dead_letters": figures["dead_letters"],
        "rate_budget": budget,
        "webhook_quota_share": settings.sync.webhook_quota_share,
        "webhooks": webhooks,
        "quarantine": {
            "by_stream": {str(k): v for k, v in sorted(quarantine.counts.items())},
            "newest": [record.as_json(payload_chars=0) for record in quarantine.newest],
        },
    }


def _print_quarantine(quarantine: dict[str, Any]) -> None:
    counts = quarantine["by_stream"]
    if not counts:
        out.print("Quarantine: empty (every record read so far parsed).", highlight=False)
        return
    streams = ", ".join(f"{count} {stream}" for stream, count in counts.items())
    out.print(
        f"Quarantine: {sum(counts.values())} malformed record(s) set aside ({streams}); "
        "`b2bsync replay --quarantined` reads them again.",
        highlight=False,
        soft_wrap=True,
    )
    table = Table("stream", "record", "order", "reason", "last seen", "seen")
    for record in quarantine["newest"]:
        table.add_row(
            record["stream"],
            record["record"],
            str(record["order_id"] or ""),
            record["reason"],
            record["last_seen_at"][:19].replace("T", " "),
            str(record["times_seen"]),
        )
    out.print(table)


def _print(report: dict[str, Any]) -> None:
    lag = report["lag_s"]
    out.print(
        f"[bold]{escape(report['store'] or 'all stores')}[/] in {escape(report['database'])}: "
        f"{report['orders']} orders, lag {'-' if lag is None else f'{lag:.0f} s'}, "
        f"outbox depth {report['outbox_depth']}, dead letters {report['dead_letters']}",
        markup=True,
        highlight=False,
    )
    types = Table("type", "orders", title="Orders by type")
    for name, count in report["by_type"].items():
        types.add_row(name, str(count))
    states = Table("state", "orders", title="Orders by state")
    for name, count in report["by_state"].items():
        states.add_row(name, str(count))
    out.print(types, states)
    marks = Table("stream", "watermark", "lag (s)", title="Watermarks")
    for mark in report["watermarks"]:
        marks.add_row(mark["stream"], mark["watermark"] or "-", str(mark["lag_s"] or "-"))
    out.print(marks)
    outbox = Table("destination", "pending", "delivered", "dead", "skipped", title="Outbox")
    for name, states in report["outbox"].items():
        outbox.add_row(name, *(str(states.get(state.value, 0)) for state in OutboxState))
    out.print(outbox)
    _print_webhooks(report["webhooks"])
    _print_quarantine(report["quarantine"])
    budget = report["rate_budget"]
    if budget is None:
        return
    if "error" in budget:
        out.print(f"Rate budget: unknown ({budget['error']})", highlight=False)
    else:
        out.print(
            f"Rate budget: {budget['left']} of {budget['quota']} requests left in the "
            f"{budget['window_s']:.0f} s window (resets in {budget['reset_in_s']} s)",
            highlight=False,
        )
        out.print(
            f"Webhook path: keeps within {report['webhook_quota_share']:.0%} of that quota "
            f"({report['webhook_quota_share'] * budget['quota']:.0f} requests per "
            f"{budget['window_s']:.0f} s), leaving the rest to the store's other apps.",
            highlight=False,
        )


def _print_webhooks(health: dict[str, Any] | None) -> None:
    if health is None:
        return
    if not health["installed"]:
        out.print("Webhooks: not installed (b2bsync webhooks install); polling only.")
        return
    verdict = {True: "healthy", False: "unhealthy", None: "not checked yet"}[health["healthy"]]
    out.print(
        f"Webhooks: {verdict}; last callback {health['last_webhook_at'] or 'never'}, "
        f"{health['webhooks_received']} received, {health['rejected']} rejected; "
        f"{health['missed_by_webhooks']} orders reached the ledger by poll only; "
        f"safety-net poll every {health['poll_interval_s']:.0f} s",
        highlight=False,
        soft_wrap=True,
    )
    for finding in health["findings"]:
        out.print(f"  - {finding}", highlight=False)


def status(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    probe: Annotated[
        bool,
        typer.Option(
            "--probe/--no-probe", help="Spend one API call to read the store's rate budget."
        ),
    ] = True,
) -> None:
    """Show watermarks, lag, orders by state, outbox, dead letters, rate budget and webhooks."""
    settings = load_or_exit(config)
    store = store_or_exit(settings) if settings.store_configured else None
    try:
        report = asyncio.run(_report(settings, store, probe and store is not None))
    except ConfigError as error:
        raise fail(str(error), 2) from None
    if as_json:
        typer.echo(json.dumps(report))
    else:
        _print(report)
