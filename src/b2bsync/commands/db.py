"""`b2bsync db ...`: create, migrate and inspect b2bsync's own database."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from procrastinate.exceptions import ConnectorException
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from b2bsync.store import (
    DATABASE_URL_ENV,
    DEFAULT_DATABASE_URL,
    Database,
    StoreError,
    display_url,
    head_revision,
)
from b2bsync.workers.schema import apply_job_schema

db_app = typer.Typer(
    name="db", help="Create, migrate and inspect b2bsync's database.", no_args_is_help=True
)

DatabaseURL = Annotated[
    str,
    typer.Option(
        "--database-url",
        envvar=DATABASE_URL_ENV,
        help="SQLite (sqlite:///path.db) or PostgreSQL (postgresql://...) URL.",
    ),
]

_out = Console()
_err = Console(stderr=True)


def _reason(error: Exception) -> str:
    """The driver's message without SQLAlchemy's statement dump and help link."""
    return str(getattr(error, "orig", None) or error).strip()


def _fail(message: str) -> typer.Exit:
    _err.print(f"[bold red]Error:[/] {message}", highlight=False)
    return typer.Exit(1)


async def _upgrade(url: str, revision: str) -> tuple[str | None, str | None, bool]:
    async with Database(url) as db:
        before = await db.current_revision()
        await db.upgrade(revision)
        after = await db.current_revision()
        postgres = db.dialect == "postgresql"
    # The job queue of `b2bsync worker` lives next to the ledger on PostgreSQL.
    jobs_created = postgres and await apply_job_schema(url)
    return before, after, jobs_created


async def _current(url: str) -> str | None:
    async with Database(url) as db:
        return await db.current_revision()


@db_app.command()
def upgrade(
    database_url: DatabaseURL = DEFAULT_DATABASE_URL,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create the tables or migrate them to the newest schema (on PostgreSQL also the job
    queue tables of `b2bsync worker`)."""
    shown = display_url(database_url)
    try:
        before, after, jobs_created = asyncio.run(_upgrade(database_url, revision))
    except StoreError as error:
        raise _fail(str(error)) from None
    except (SQLAlchemyError, OSError, ConnectorException) as error:
        raise _fail(f"cannot migrate {shown}: {_reason(error)}") from None
    if before == after:
        _out.print(f"{shown} is already at revision {after}.", highlight=False)
    else:
        _out.print(f"{shown} migrated from {before or 'empty'} to {after}.", highlight=False)
    if jobs_created:
        _out.print(
            f"{shown}: created the job queue tables of `b2bsync worker`.",
            highlight=False,
            soft_wrap=True,
        )


@db_app.command()
def current(
    database_url: DatabaseURL = DEFAULT_DATABASE_URL,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the database's schema revision and whether it is the newest."""
    shown = display_url(database_url)
    try:
        revision = asyncio.run(_current(database_url))
    except StoreError as error:
        raise _fail(str(error)) from None
    except (SQLAlchemyError, OSError) as error:
        raise _fail(f"cannot read {shown}: {_reason(error)}") from None
    head = head_revision()
    if as_json:
        report = {"database": shown, "revision": revision, "head": head}
        typer.echo(json.dumps({**report, "up_to_date": revision == head}))
        return
    if revision is None:
        _out.print(f"{shown} is empty; run `b2bsync db upgrade`.", highlight=False)
    elif revision == head:
        _out.print(f"{shown} is at revision {revision} (newest).", highlight=False)
    else:
        _out.print(
            f"{shown} is at revision {revision}; the newest is {head}: run `b2bsync db upgrade`.",
            highlight=False,
        )
