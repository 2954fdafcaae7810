"""Quarantine: the records an API returned that b2bsync could not parse or map.

One row per (store, stream, record). Seeing the record bad again updates its reason, payload
and `last_seen_at`; a clean read releases it (the row goes). Writes are set-based: one
statement per call, whatever the number of records.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from b2bsync.domain.rejects import Rejected, RejectedStream
from b2bsync.store._sql import among, chunks
from b2bsync.store.schema import quarantine

__all__ = ["QuarantineRepository", "QuarantinedRecord"]


@dataclass(frozen=True, slots=True)
class QuarantinedRecord:
    """A quarantined record as stored."""

    store: str
    stream: RejectedStream
    key: str
    order_id: int | None
    reason: str
    path: str
    payload: str
    payload_chars: int
    first_seen_at: datetime
    last_seen_at: datetime
    times_seen: int

    def as_json(self, *, payload_chars: int | None = None) -> dict[str, Any]:
        """The record as `--json` output and the dashboard's API show it; `payload_chars`
        cuts the payload shorter still (0 leaves it out)."""
        shown: dict[str, Any] = {
            "store": self.store,
            "stream": str(self.stream),
            "record": self.key,
            "order_id": self.order_id,
            "reason": self.reason,
            "path": self.path,
            "first_seen_at": self.first_seen_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
            "times_seen": self.times_seen,
            "payload_chars": self.payload_chars,
        }
        if payload_chars != 0:
            shown["payload"] = self.payload[:payload_chars]
        return shown


def _upsert_statement(conn: AsyncConnection) -> postgresql.Insert | sqlite.Insert:
    statement = (
        postgresql.insert(quarantine)
        if conn.dialect.name == "postgresql"
        else sqlite.insert(quarantine)
    )
    return statement.on_conflict_do_update(
        index_elements=["store", "stream", "record_key"],
        set_={
            "order_id": statement.excluded.order_id,
            "reason": statement.excluded.reason,
            "path": statement.excluded.path,
            "payload": statement.excluded.payload,
            "payload_chars": statement.excluded.payload_chars,
            "last_seen_at": statement.excluded.last_seen_at,
            "times_seen": quarantine.c.times_seen + 1,
        },
    )


class QuarantineRepository:
    """Reads and writes quarantined records inside the caller's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def put(self, store: str, rejects: Sequence[Rejected], now: datetime) -> None:
        """Set `rejects` aside (or refresh them, counting another sighting)."""
        if not rejects:
            return
        # The last sighting of a record within one call wins; one row per key.
        latest = {(rejected.stream, rejected.key): rejected for rejected in rejects}
        rows = [
            {
                "store": store,
                "stream": str(rejected.stream),
                "record_key": rejected.key,
                "order_id": rejected.order_id,
                "reason": rejected.reason,
                "path": rejected.path,
                "payload": rejected.payload,
                "payload_chars": rejected.payload_chars,
                "first_seen_at": now,
                "last_seen_at": now,
                "times_seen": 1,
            }
            for rejected in latest.values()
        ]
        await self._conn.execute(_upsert_statement(self._conn), rows)

    async def release(self, store: str, stream: RejectedStream, keys: Collection[str]) -> int:
        """Drop the quarantine rows of records read clean again; returns how many there were."""
        released = 0
        for part in chunks(sorted(set(keys))):
            result = await self._conn.execute(
                delete(quarantine).where(
                    quarantine.c.store == store,
                    quarantine.c.stream == str(stream),
                    among(self._conn, quarantine.c.record_key, part),
                )
            )
            released += result.rowcount
        return released

    async def records(
        self,
        store: str | None = None,
        *,
        stream: RejectedStream | None = None,
        order_id: int | None = None,
        limit: int = 100,
    ) -> list[QuarantinedRecord]:
        """Quarantined records, most recently seen first, optionally for one store, stream or
        order."""
        query = select(quarantine).order_by(
            quarantine.c.last_seen_at.desc(), quarantine.c.record_key
        )
        if store is not None:
            query = query.where(quarantine.c.store == store)
        if stream is not None:
            query = query.where(quarantine.c.stream == str(stream))
        if order_id is not None:
            query = query.where(quarantine.c.order_id == order_id)
        rows = (await self._conn.execute(query.limit(limit))).all()
        return [
            QuarantinedRecord(
                store=row.store,
                stream=RejectedStream(row.stream),
                key=row.record_key,
                order_id=row.order_id,
                reason=row.reason,
                path=row.path,
                payload=row.payload,
                payload_chars=row.payload_chars,
                first_seen_at=row.first_seen_at,
                last_seen_at=row.last_seen_at,
                times_seen=row.times_seen,
            )
            for row in rows
        ]

    async def counts_by_store(self) -> dict[tuple[str, RejectedStream], int]:
        """How many records each (store, stream) has in quarantine (absent: none)."""
        query = select(quarantine.c.store, quarantine.c.stream, func.count().label("n")).group_by(
            quarantine.c.store, quarantine.c.stream
        )
        rows = (await self._conn.execute(query)).all()
        return {(row.store, RejectedStream(row.stream)): row.n for row in rows}

    async def counts(self, store: str | None = None) -> dict[RejectedStream, int]:
        """How many records each stream has in quarantine (streams with none are absent)."""
        query = select(quarantine.c.stream, func.count().label("n")).group_by(quarantine.c.stream)
        if store is not None:
            query = query.where(quarantine.c.store == store)
        rows = (await self._conn.execute(query)).all()
        return {RejectedStream(row.stream): row.n for row in rows}
