"""`b2bsync sync` (catch up once, or keep polling) and `b2bsync backfill --since DATE` (walk
history with a progress bar; interrupt it and run it again to resume)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from b2bsync.bigcommerce import BigCommerceError
from b2bsync.commands.runtime import (
    ConfigOption,
    JsonOption,
    err,
    fail,
    load_or_exit,
    out,
    sync_context,
)
from b2bsync.config import Settings, parse_since
from b2bsync.domain.watermark import scan_lower_bound
from b2bsync.observability import configure_logging
from b2bsync.store.reports import ledger_counts
from b2bsync.sync import (
    SyncContext,
    SyncSettings,
    deliver_due,
    poll_store,
    recheck_pending,
    run_forever,
    run_once,
)
from b2bsync.sync.poller import ORDERS_STREAM

__all__ = ["backfill", "sync"]

INTERRUPTED = 130
"""Exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""


async def _totals(ctx: SyncContext) -> dict[str, Any]:
    counts = await ledger_counts(ctx.db, ctx.store)
    async with ctx.db.transaction(readonly=True) as tx:
        quarantined = await tx.quarantine.counts(ctx.store)
    return {
        "quarantined": {str(stream): count for stream, count in sorted(quarantined.items())},
        "orders": counts.total,
        "by_type": counts.by_type,
        "pending": counts.by_state["pending_classification"],
        "held": counts.by_state["held"],
        "outbox_depth": counts.outbox_depth,
        "dead_letters": counts.dead_letters,
    }


def _describe_destinations(settings: Settings) -> str:
    names = ", ".join(f"{d.name} ({d.type})" for d in settings.destinations)
    if settings.destinations_defaulted:
        path = getattr(settings.destinations[0], "path", "")
        return f"{names}: no destination is configured, so deliveries go to {path}"
    return names


async def _once(settings: Settings, *, progress: bool) -> dict[str, Any]:
    counter = _OrderProgress(enabled=progress)
    async with sync_context(settings, on_page=counter.on_page) as ctx:
        if progress:
            await counter.expect(ctx, ctx.settings.first_start(ctx.clock()))
        with counter.progress:
            summary = await run_once(ctx)
        return {
            "store": ctx.store,
            "seen": summary.poll.orders_read,
            "new_versions": summary.poll.processed.versions + summary.recheck.processed.versions,
            "delivered": summary.delivery.delivered,
            "retried": summary.delivery.retried,
            "newly_dead": summary.delivery.dead,
            "api_calls": summary.calls,
            "calls_per_order": round(summary.calls_per_order, 4),
            "written_back": len(summary.writebacks.writes) if summary.writebacks else None,
            "alerts": None
            if summary.alerts is None
            else {
                "recorded": [event.as_json() for event in summary.alerts.recorded],
                "failed_channels": [
                    {"alert": r.alert, "channel": r.channel, "error": r.error}
                    for r in summary.alerts.failed
                ],
            },
            **await _totals(ctx),
        }


def _print_once(report: dict[str, Any]) -> None:
    by_type = report["by_type"]
    out.print(
        f"Store {report['store']}: {report['seen']} orders seen, "
        f"{report['new_versions']} new versions, {report['delivered']} delivered, "
        f"{report['retried']} to retry, {report['api_calls']} API calls "
        f"({report['calls_per_order']} per order).",
        highlight=False,
        soft_wrap=True,
    )
    out.print(
        f"Ledger: {report['orders']} orders ({by_type['online_order']} online orders, "
        f"{by_type['invoice_payment']} invoice payments, {by_type['unclassified']} "
        f"unclassified); {report['pending']} pending, {report['held']} held, "
        f"{report['outbox_depth']} waiting in the outbox, {report['dead_letters']} dead letters.",
        highlight=False,
        soft_wrap=True,
    )
    if report["written_back"] is not None:
        out.print(f"Write-back: {report['written_back']} orders updated.", highlight=False)
    _print_alerts(report["alerts"])
    _print_quarantine(report)


def _print_alerts(alerts: dict[str, Any] | None) -> None:
    if alerts is None:
        return
    for event in alerts["recorded"]:
        out.print(
            f"Alert {event['alert']} {event['state']}: {event['message']}",
            highlight=False,
            soft_wrap=True,
        )
    for failed in alerts["failed_channels"]:
        out.print(
            f"Alert {failed['alert']}: {failed['channel']} failed ({failed['error']}); "
            "sent again after the next round.",
            highlight=False,
            soft_wrap=True,
        )


def _print_quarantine(report: dict[str, Any]) -> None:
    quarantined = report["quarantined"]
    if quarantined:
        streams = ", ".join(f"{count} {stream}" for stream, count in quarantined.items())
        out.print(
            f"Quarantined: {sum(quarantined.values())} malformed records set aside ({streams}); "
            "`b2bsync status` names them, a clean read or `b2bsync replay --quarantined` "
            "processes them.",
            highlight=False,
            soft_wrap=True,
        )


def _install_stop(stop: asyncio.Event, task: asyncio.Task[Any], message: str) -> None:
    """First Ctrl-C (or SIGTERM) sets `stop`; a second one cancels `task`."""
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            task.cancel()
            return
        stop.set()
        err.print(message, highlight=False)

    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, on_signal)


async def _forever(settings: Settings) -> bool:
    stop = asyncio.Event()
    async with sync_context(settings) as ctx:
        current = asyncio.current_task()
        assert current is not None
        _install_stop(stop, current, "Stopping after this round (Ctrl-C again to stop now).")
        out.print(
            f"Syncing store {ctx.store} every {settings.sync.poll_interval_s:g} s into "
            f"{_describe_destinations(settings)}. Ctrl-C stops.",
            highlight=False,
            soft_wrap=True,
        )
        try:
            await run_forever(ctx, settings.sync.poll_interval_s, stop)
        except asyncio.CancelledError:
            return False
    return True


def sync(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Catch up, print a summary, exit.")] = False,
    as_json: JsonOption = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs.")] = False,
) -> None:
    """Sync the store's orders into the ledger and deliver them to the destinations."""
    settings = load_or_exit(config)
    configure_logging(debug=verbose, json_lines=as_json)
    if not once:
        if not asyncio.run(_forever(settings)):
            raise typer.Exit(INTERRUPTED)
        return
    if not as_json:
        out.print(f"Destinations: {_describe_destinations(settings)}.", highlight=False)
    try:
        # A bar only for a person at a terminal: the count it needs is one more API call.
        report = asyncio.run(_once(settings, progress=not as_json and err.is_terminal))
    except BigCommerceError as error:
        raise fail(f"the store API failed: {error}") from None
    if as_json:
        typer.echo(json.dumps(report))
    else:
        _print_once(report)


class _RateColumn(ProgressColumn):
    """Orders per second."""

    def render(self, task: Task) -> Text:
        """The task's speed in orders per second."""
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} orders/s")


class _OrderProgress:
    """A progress bar of the live V2 scan, fed by the engine's `on_page` (orders read first on
    each committed page); on stderr, and off for `--json` or when stderr is no terminal."""

    def __init__(self, *, enabled: bool) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err,
            disable=not enabled,
        )
        self.task = self.progress.add_task("Reading signals", total=None)
        self.done = 0

    def on_page(self, stream: str, orders: int) -> None:
        """`SyncContext.on_page`: a committed page of the live scan advances the bar."""
        if stream != ORDERS_STREAM:
            return
        self.done += orders
        total = self.progress.tasks[0].total
        shown = self.done if total is None else min(self.done, total)
        self.progress.update(self.task, description="Orders", completed=shown)

    async def expect(self, ctx: SyncContext, since: datetime) -> tuple[datetime, int]:
        """Where the live scan will start (the checkpoint's watermark − overlap, or `since` on
        a new ledger) and how many orders it will read from there (one count call)."""
        async with ctx.db.transaction(readonly=True) as tx:
            checkpoint = await tx.checkpoints.get(ctx.store, ORDERS_STREAM)
        lower = since
        if checkpoint is not None and checkpoint.watermark is not None:
            lower = scan_lower_bound(checkpoint.watermark, ctx.settings.overlap)
        total = (await ctx.client.orders.count({"min_date_modified": lower})).count
        self.progress.update(self.task, total=total)
        return lower, total


async def _backfill(settings: Settings, since: datetime, as_json: bool) -> dict[str, Any] | None:
    engine = dataclasses.replace(SyncSettings.from_options(settings.sync), start=since)
    counter = _OrderProgress(enabled=not as_json)
    progress = counter.progress
    async with sync_context(settings, engine=engine, on_page=counter.on_page) as ctx:
        lower, total = await counter.expect(ctx, since)
        if lower != since and not as_json:
            err.print(
                f"Resuming from the checkpoint: orders modified since {lower.isoformat()}.",
                highlight=False,
                soft_wrap=True,
            )
        poll = asyncio.create_task(poll_store(ctx))
        stop = asyncio.Event()
        _install_stop(stop, poll, "Stopping: the page in flight is dropped, committed pages stay.")
        with progress:
            watcher = asyncio.create_task(stop.wait())
            await asyncio.wait({poll, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set() and not poll.done():
                poll.cancel()
            watcher.cancel()
            try:
                summary = await poll
            except asyncio.CancelledError:
                return None
        recheck = await recheck_pending(ctx, ctx.clock())
        delivery = await deliver_due(ctx, ctx.clock())
        return {
            "store": ctx.store,
            "since": since.isoformat(),
            "resumed_from": lower.isoformat() if lower != since else None,
            "total": total,
            "seen": summary.orders_read,
            "new_versions": summary.processed.versions + recheck.processed.versions,
            "delivered": delivery.delivered,
            "api_calls": ctx.calls.count,
            **await _totals(ctx),
        }


def backfill(
    since: Annotated[
        str, typer.Option("--since", help="Start of history: a date (2026-01-31) or ISO time.")
    ],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Walk the store's history from --since into the ledger, with a progress bar.

    Every page commits with its checkpoint: Ctrl-C keeps what is committed, and running the
    command again resumes from the checkpoint."""
    settings = load_or_exit(config)
    try:
        start = parse_since(since)
    except ValueError as error:
        raise fail(f"--since is malformed: {error}", 2) from None
    configure_logging(json_lines=as_json)
    try:
        report = asyncio.run(_backfill(settings, start, as_json))
    except BigCommerceError as error:
        raise fail(f"the store API failed: {error}") from None
    if report is None:
        err.print("Interrupted; run the same command again to resume.", highlight=False)
        raise typer.Exit(INTERRUPTED)
    if as_json:
        typer.echo(json.dumps(report))
        return
    scope = (
        f"resumed from the checkpoint (orders modified since {report['resumed_from']}; "
        f"--since {report['since'][:10]} is already covered)"
        if report["resumed_from"]
        else f"since {report['since']}"
    )
    out.print(
        f"Backfill of {report['store']} {scope}: {report['seen']} orders read, "
        f"{report['new_versions']} new versions, {report['delivered']} delivered, "
        f"{report['api_calls']} API calls. Ledger: {report['orders']} orders, "
        f"{report['pending']} pending classification.",
        highlight=False,
        soft_wrap=True,
    )
    _print_quarantine(report)
