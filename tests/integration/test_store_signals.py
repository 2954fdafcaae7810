"""The order signal cache on SQLite and PostgreSQL when two streams write one order at once (a
webhook batch reading metafields beside the safety-net poll reading B2B orders): neither
stream's part of the row is lost."""

from __future__ import annotations

import asyncio

from b2bsync.store import Database
from b2bsync.store.signals import B2BOrderSignal, MetafieldSignal
from tests.integration.store_support import STORE, T0, db

__all__ = ["db"]

ORDER = 4_021


async def _metafield(db: Database, hold_s: float) -> None:
    async with db.transaction() as tx:
        await tx.signals.put_metafields(
            STORE, [MetafieldSignal(ORDER, "invoice payment", "b2b")], T0
        )
        await asyncio.sleep(hold_s)


async def _b2b_order(db: Database, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    async with db.transaction() as tx:
        await tx.signals.put_b2b_orders(
            STORE, [B2BOrderSignal(ORDER, 77, 12, po_number="PO-9", is_invoice_order=True)], T0
        )


async def _stored(db: Database) -> tuple[object, ...]:
    async with db.transaction(readonly=True) as tx:
        row = (await tx.signals.signals(STORE, [ORDER]))[ORDER]
    return (row.metafield_value, row.b2b_order_id, row.company_id, row.po_number)


async def test_two_streams_inserting_one_new_order_at_once_both_keep_their_part(
    db: Database,
) -> None:
    await asyncio.gather(_metafield(db, hold_s=0.2), _b2b_order(db, delay_s=0.05))
    assert await _stored(db) == ("invoice payment", 77, 12, "PO-9")


async def test_two_streams_updating_one_order_at_once_both_keep_their_part(
    db: Database,
) -> None:
    async with db.transaction() as tx:
        await tx.signals.put_b2b_orders(STORE, [B2BOrderSignal(ORDER, 77, 11)], T0)
    await asyncio.gather(_metafield(db, hold_s=0.2), _b2b_order(db, delay_s=0.05))
    assert await _stored(db) == ("invoice payment", 77, 12, "PO-9")
