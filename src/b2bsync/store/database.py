"""Engines and transactions: one `Database` per process, bundling the repositories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from b2bsync.json_columns import json_text
from b2bsync.store.alerts import AlertRepository
from b2bsync.store.change_feed import ChangeFeedRepository
from b2bsync.store.checkpoints import CheckpointRepository
from b2bsync.store.errors import UnsupportedDatabaseURL
from b2bsync.store.ledger import LedgerRepository
from b2bsync.store.outbox import OutboxRepository
from b2bsync.store.quarantine import QuarantineRepository
from b2bsync.store.signals import SignalRepository
from b2bsync.store.webhooks import WebhookRepository
from b2bsync.store.writebacks import WritebackLog

DEFAULT_DATABASE_URL = "sqlite:///.b2bsync/b2bsync.db"
DATABASE_URL_ENV = "B2BSYNC_DATABASE_URL"

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another one before failing."""

_READONLY = "b2bsync_readonly"

_PG_OPTIONS = "-c plan_cache_mode=force_custom_plan"
"""psycopg prepares a statement on its fifth run; PostgreSQL would then switch to a generic
plan costed on the table as it was (near empty on a cold start) and keep scanning by `store`
alone for primary-key lookups as the ledger grows. Custom plans see each lookup's values."""
MIGRATIONS = "b2bsync.store:migrations"


def _async_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise UnsupportedDatabaseURL(f"not a database URL: {url!r}") from error
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite", "aiosqlite"):
        if parsed.database in (None, "", ":memory:"):
            raise UnsupportedDatabaseURL(
                "an in-memory SQLite database cannot be shared by b2bsync's connections; "
                "give a file path, e.g. sqlite:///.b2bsync/b2bsync.db"
            )
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg", "psycopg_async"):
        # Plain "postgresql://" means psycopg2 to SQLAlchemy; b2bsync ships psycopg 3.
        return parsed.set(drivername="postgresql+psycopg")
    raise UnsupportedDatabaseURL(
        f"unsupported database URL scheme {parsed.drivername!r}: "
        "use sqlite:///path/to/file.db or postgresql://user:password@host/dbname"
    )


def display_url(url: str) -> str:
    """`url` with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def create_engine(url: str) -> AsyncEngine:
    """An async engine for a `sqlite:///` or `postgresql://` URL.

    SQLite gets WAL (readers do not block the writer), foreign keys, a busy timeout, and
    `BEGIN IMMEDIATE` for write transactions: a writer takes the write lock up front, so two
    writers queue instead of failing on a stale snapshot.
    PostgreSQL connections always plan each statement for its values (`_PG_OPTIONS`).
    Raises `UnsupportedDatabaseURL` naming the scheme for anything else.
    """
    async_url = _async_url(url)
    if async_url.get_backend_name() != "sqlite":
        return create_async_engine(
            async_url,
            pool_pre_ping=True,
            connect_args={"options": _PG_OPTIONS},
            json_serializer=json_text,
            json_deserializer=orjson.loads,
        )
    assert async_url.database is not None
    Path(async_url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        async_url, json_serializer=json_text, json_deserializer=orjson.loads
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let our "begin" listener, not the driver, open transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        readonly = conn.get_execution_options().get(_READONLY, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


@dataclass(frozen=True, slots=True)
class Transaction:
    """One database transaction and the repositories working in it."""

    connection: AsyncConnection
    ledger: LedgerRepository
    outbox: OutboxRepository
    feed: ChangeFeedRepository
    checkpoints: CheckpointRepository
    signals: SignalRepository
    quarantine: QuarantineRepository
    webhooks: WebhookRepository
    writebacks: WritebackLog
    alerts: AlertRepository


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the migrations packaged with b2bsync."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    """The newest migration shipped with this version of b2bsync."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


class Database:
    """The engine plus `transaction()`; create one per process and `close()` it at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[Transaction]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        async with self.engine.connect() as conn:
            if readonly:
                await conn.execution_options(**{_READONLY: True})
            async with conn.begin():
                yield Transaction(
                    connection=conn,
                    ledger=LedgerRepository(conn),
                    outbox=OutboxRepository(conn),
                    feed=ChangeFeedRepository(conn),
                    checkpoints=CheckpointRepository(conn),
                    signals=SignalRepository(conn),
                    quarantine=QuarantineRepository(conn),
                    webhooks=WebhookRepository(conn),
                    writebacks=WritebackLog(conn),
                    alerts=AlertRepository(conn),
                )

    async def upgrade(self, revision: str = "head") -> None:
        """Migrate the schema up to `revision` (the newest by default)."""
        await self._migrate(command.upgrade, revision)

    async def downgrade(self, revision: str) -> None:
        """Migrate the schema down to `revision` (`base` removes every table)."""
        await self._migrate(command.downgrade, revision)

    async def _migrate(self, step: Callable[[Config, str], None], revision: str) -> None:
        config = alembic_config(self.url)

        def run(sync_conn: Connection) -> None:
            config.attributes["connection"] = sync_conn
            step(config, revision)

        async with self.engine.connect() as conn:
            await conn.run_sync(run)
            await conn.commit()

    async def current_revision(self) -> str | None:
        """The schema's migration revision, or None for an empty database."""

        def read(sync_conn: Connection) -> str | None:
            return MigrationContext.configure(sync_conn).get_current_revision()

        async with self.engine.connect() as conn:
            await conn.execution_options(**{_READONLY: True})
            return await conn.run_sync(read)

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()
