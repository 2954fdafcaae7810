"""Checkpoints on SQLite and PostgreSQL: an aware watermark and a JSON cursor round-trip, and a
watermark that never moves back, even under two scans of one stream at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

from b2bsync.store import Database
from tests.integration.store_support import STORE, T0, db, later

__all__ = ["db"]


async def test_checkpoint_round_trip_keeps_aware_utc_and_the_cursor(db: Database) -> None:
    async with db.transaction(readonly=True) as tx:
        assert await tx.checkpoints.get(STORE, "v2_orders") is None
    minus_five = timezone(timedelta(hours=-5))
    watermark = datetime(2026, 3, 1, 7, 0, 0, 123456, tzinfo=minus_five)
    cursor = {"anchor": "2026-03-01T12:00:00+00:00", "seen_at_anchor": [3, 1], "page_size": 250}
    async with db.transaction() as tx:
        await tx.checkpoints.put(STORE, "v2_orders", watermark=watermark, cursor=cursor, now=T0)
        await tx.checkpoints.put(STORE, "b2b_orders", watermark=None, cursor=None, now=T0)
    async with db.transaction(readonly=True) as tx:
        stored = await tx.checkpoints.get(STORE, "v2_orders")
        other = await tx.checkpoints.get(STORE, "b2b_orders")
        assert await tx.checkpoints.get("other", "v2_orders") is None
    assert stored is not None
    assert other is not None
    assert stored.watermark == watermark
    assert stored.watermark is not None
    assert stored.watermark.tzinfo is UTC
    assert stored.watermark.hour == 12
    assert stored.watermark.microsecond == 123456
    assert stored.cursor == cursor
    assert stored.updated_at == T0
    assert (other.watermark, other.cursor) == (None, None)


async def test_put_replaces_the_previous_checkpoint(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.checkpoints.put(STORE, "v2_orders", watermark=T0, cursor={"page": 1}, now=T0)
    async with db.transaction() as tx:
        await tx.checkpoints.put(STORE, "v2_orders", watermark=later(5), cursor=None, now=later(6))
    async with db.transaction(readonly=True) as tx:
        stored = await tx.checkpoints.get(STORE, "v2_orders")
    assert stored is not None
    assert (stored.watermark, stored.cursor, stored.updated_at) == (later(5), None, later(6))


async def test_advance_never_moves_the_watermark_back(db: Database) -> None:
    async with db.transaction() as tx:
        first = await tx.checkpoints.advance(STORE, "v2_orders", [later(3), later(5)], later(6))
    async with db.transaction() as tx:
        # A scan that began earlier commits older records after a newer scan's page.
        second = await tx.checkpoints.advance(STORE, "v2_orders", [later(2)], later(7))
    async with db.transaction(readonly=True) as tx:
        stored = await tx.checkpoints.get(STORE, "v2_orders")
    assert (first, second) == (later(5), later(5))
    assert stored is not None
    assert (stored.watermark, stored.updated_at) == (later(5), later(7))


async def test_two_scans_advancing_at_once_keep_the_newer_watermark(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.checkpoints.advance(STORE, "metafields", [T0], T0)

    async def newer_scan() -> None:
        async with db.transaction() as tx:
            await tx.checkpoints.advance(STORE, "metafields", [later(9)], later(9))
            await asyncio.sleep(0.2)  # still uncommitted when the other scan reads

    async def older_scan() -> None:
        await asyncio.sleep(0.05)
        async with db.transaction() as tx:
            await tx.checkpoints.advance(STORE, "metafields", [later(4)], later(9))

    await asyncio.gather(newer_scan(), older_scan())
    async with db.transaction(readonly=True) as tx:
        stored = await tx.checkpoints.get(STORE, "metafields")
    assert stored is not None
    assert stored.watermark == later(9)
