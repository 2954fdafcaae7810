"""`b2bsync db ...`: create, migrate and inspect b2bsync's own database."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from procrastinate.exceptions import ConnectorException
from sqlalchemy.exc import SQLAlchemyError

from b2bsync.commands.runtime import ConfigOption, fail, load_or_exit, out
from b2bsync.store import Database, StoreError, display_url, head_revision
from b2bsync.workers.schema import apply_job_schema

db_app = typer.Typer(
    name="db", help="Create, migrate and inspect b2bsync's database.", no_args_is_help=True
)

DatabaseURL = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLite (sqlite:///path.db) or PostgreSQL (postgresql://...) URL (default: "
        "$B2BSYNC_DATABASE_URL, else database_url of the configuration file).",
    ),
]


def _reason(error: Exception) -> str:
    """The driver's message without SQLAlchemy's statement dump and help link."""
    return str(getattr(error, "orig", None) or error).strip()


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
    database_url: DatabaseURL = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    config: ConfigOption = None,
) -> None:
    """Create the tables or migrate them to the newest schema.

    On PostgreSQL also the job queue tables of `b2bsync worker`."""
    url = load_or_exit(config, database_url=database_url).database_url
    shown = display_url(url)
    try:
        before, after, jobs_created = asyncio.run(_upgrade(url, revision))
    except StoreError as error:
        raise fail(str(error)) from None
    except (SQLAlchemyError, OSError, ConnectorException) as error:
        raise fail(f"cannot migrate {shown}: {_reason(error)}") from None
    if before == after:
        out.print(f"{shown} is already at revision {after}.", highlight=False)
    else:
        out.print(f"{shown} migrated from {before or 'empty'} to {after}.", highlight=False)
    if jobs_created:
        out.print(
            f"{shown}: created the job queue tables of `b2bsync worker`.",
            highlight=False,
            soft_wrap=True,
        )


@db_app.command()
def current(
    database_url: DatabaseURL = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: ConfigOption = None,
) -> None:
    """Show the database's schema revision and whether it is the newest."""
    url = load_or_exit(config, database_url=database_url).database_url
    shown = display_url(url)
    try:
        revision = asyncio.run(_current(url))
    except StoreError as error:
        raise fail(str(error)) from None
    except (SQLAlchemyError, OSError) as error:
        raise fail(f"cannot read {shown}: {_reason(error)}") from None
    head = head_revision()
    if as_json:
        report = {"database": shown, "revision": revision, "head": head}
        typer.echo(json.dumps({**report, "up_to_date": revision == head}))
        return
    if revision is None:
        out.print(f"{shown} is empty; run `b2bsync db upgrade`.", highlight=False)
    elif revision == head:
        out.print(f"{shown} is at revision {revision} (newest).", highlight=False)
    else:
        out.print(
            f"{shown} is at revision {revision}; the newest is {head}: run `b2bsync db upgrade`.",
            highlight=False,
        )
