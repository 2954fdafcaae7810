"""procrastinate's own tables (jobs, workers, periodic defers), created by `b2bsync db upgrade`
next to b2bsync's Alembic-managed ones."""

from __future__ import annotations

from procrastinate import App, PsycopgConnector

from b2bsync.workers.app import procrastinate_conninfo

__all__ = ["apply_job_schema"]


async def apply_job_schema(database_url: str) -> bool:
    """Create procrastinate's schema in the PostgreSQL of `database_url` unless it is there;
    True when it was created. Running it again changes nothing."""
    app = App(connector=PsycopgConnector(conninfo=procrastinate_conninfo(database_url)))
    async with app.open_async():
        if await app.check_connection_async():
            return False
        await app.schema_manager.apply_schema_async()
    return True
