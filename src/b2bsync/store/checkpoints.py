"""Checkpoints: per store and stream, the watermark and a resumable scan cursor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from b2bsync.domain.watermark import advance_watermark
from b2bsync.store._sql import upserting
from b2bsync.store.schema import checkpoints


@dataclass(frozen=True, slots=True)
class Checkpoint:
    store: str
    stream: str
    watermark: datetime | None
    cursor: Mapping[str, Any] | None
    """JSON state of an unfinished scan or backfill, to resume it after a restart."""
    updated_at: datetime


class CheckpointRepository:
    """Reads and writes checkpoints inside the caller's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, store: str, stream: str, *, locked: bool = False) -> Checkpoint | None:
        """The stream's checkpoint, or None before its first scan; `locked` holds its row
        until the transaction ends (PostgreSQL; a SQLite writer holds the whole database)."""
        query = select(checkpoints).where(
            checkpoints.c.store == store, checkpoints.c.stream == stream
        )
        result = await self._conn.execute(query.with_for_update() if locked else query)
        row = result.first()
        if row is None:
            return None
        return Checkpoint(
            store=row.store,
            stream=row.stream,
            watermark=row.watermark,
            cursor=row.cursor,
            updated_at=row.updated_at,
        )

    async def put(
        self,
        store: str,
        stream: str,
        *,
        watermark: datetime | None,
        cursor: Mapping[str, Any] | None,
        now: datetime,
    ) -> None:
        """Create or replace the stream's checkpoint."""
        values = {
            "watermark": watermark,
            "cursor": dict(cursor) if cursor is not None else None,
            "updated_at": now,
        }
        await self._conn.execute(
            upserting(
                self._conn, checkpoints, ("store", "stream"), ("watermark", "cursor", "updated_at")
            ),
            {"store": store, "stream": stream, **values},
        )

    async def advance(
        self, store: str, stream: str, committed: Sequence[datetime], now: datetime
    ) -> datetime | None:
        """Move the stream's watermark to the newest of `committed` (stamps of records this
        transaction commits), never backwards, and return it. The stored watermark is read
        locked, so two scans of one stream at once (a webhook batch and the safety-net poll)
        each keep the other's progress."""
        current = await self.get(store, stream, locked=True)
        stored = current.watermark if current is not None else None
        watermark = advance_watermark(stored, committed)
        cursor = current.cursor if current is not None else None
        await self.put(store, stream, watermark=watermark, cursor=cursor, now=now)
        return watermark
