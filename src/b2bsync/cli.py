"""The `b2bsync` command line: thin, it parses, calls services and prints."""

from __future__ import annotations

from typing import Annotated

import typer

from b2bsync.commands.alerts import alerts_app
from b2bsync.commands.api import api_app
from b2bsync.commands.db import db_app
from b2bsync.commands.demo import demo
from b2bsync.commands.init import init
from b2bsync.commands.invoices import invoices_app
from b2bsync.commands.orders import orders_app
from b2bsync.commands.push import push_app
from b2bsync.commands.replay import replay
from b2bsync.commands.run import run
from b2bsync.commands.status import status
from b2bsync.commands.sync import backfill, sync
from b2bsync.commands.webhooks import webhooks_app
from b2bsync.commands.worker import worker
from b2bsync.commands.writeback import writeback_app
from b2bsync.observability import LogFormat, set_log_preferences
from b2bsync.sandbox.cli import sandbox_app

app = typer.Typer(
    name="b2bsync",
    help="Sync BigCommerce B2B Edition orders, telling online orders from invoice payments.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _global_options(
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Debug logs: each API request, each delivered order."),
    ] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format",
            help="Log lines on stderr: console, json, or auto (JSON when stderr is not a "
            "terminal).",
        ),
    ] = LogFormat.AUTO,
) -> None:
    """Options that apply to every command; put them before the command's name."""
    set_log_preferences(verbose=verbose, log_format=log_format)


app.add_typer(sandbox_app, name="sandbox")
app.add_typer(db_app, name="db")
app.add_typer(api_app, name="api")
app.command("init")(init)
app.command("demo")(demo)
app.command("sync")(sync)
app.command("backfill")(backfill)
app.add_typer(orders_app, name="orders")
app.command("status")(status)
app.command("replay")(replay)
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(writeback_app, name="writeback")
app.add_typer(invoices_app, name="invoices")
app.add_typer(push_app, name="push")
app.add_typer(alerts_app, name="alerts")
app.command("run")(run)
app.command("worker")(worker)


def main() -> None:
    """Console-script entry point."""
    app()
