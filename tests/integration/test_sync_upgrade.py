"""The page path (`process_drafts`: decide, then one set of writes) against the per-order one:
orders the per-order path versioned are unchanged when read again (upgrading re-delivers
nothing), and an order repeated within one call is decided after its earlier read."""

from __future__ import annotations

from datetime import timedelta

from b2bsync.bigcommerce import BigCommerceClient
from b2bsync.destinations import Route
from b2bsync.domain.classification import Classification, SignalSource
from b2bsync.domain.fingerprint import content_hash
from b2bsync.domain.order_type import OrderType
from b2bsync.store import Database
from b2bsync.store.signals import MetafieldSignal
from b2bsync.sync import SyncContext
from b2bsync.sync.engine import process_drafts
from b2bsync.sync.mapping import compose
from tests.integration.store_support import STORE, T0, db, make_record
from tests.integration.sync_support import Recorder

__all__ = ["db"]


async def test_orders_versioned_by_the_previous_release_are_unchanged(db: Database) -> None:
    drafts = [
        make_record(order_id, order_type=OrderType.UNCLASSIFIED, b2b=None, invoices=())
        for order_id in (101, 102, 103)
    ]
    online = Classification(
        OrderType.ONLINE_ORDER, SignalSource.METAFIELD, "orderType metafield is 'online order'"
    )
    async with db.transaction() as tx:
        await tx.signals.put_metafields(
            STORE, [MetafieldSignal(d.order_id, "online order", "b2b") for d in drafts], T0
        )
        bundles = await tx.signals.bundles(STORE, [d.order_id for d in drafts])
        for draft in drafts:
            record = compose(draft, bundles[draft.order_id], OrderType.ONLINE_ORDER)
            version = await tx.ledger.append_version(
                STORE, record, content_hash(record), online, T0
            )
            assert version == 1
    ctx = SyncContext(
        store=STORE,
        client=BigCommerceClient(store_hash=STORE, access_token="unused"),
        db=db,
        destinations=(Recorder().configured(Route()),),
    )
    later = T0 + timedelta(minutes=5)
    async with db.transaction() as tx:
        touched = [d.model_copy(update={"date_modified": later}) for d in drafts]
        summary = await process_drafts(ctx, tx, touched, later)
    assert (summary.unchanged, summary.versions, summary.enqueued) == (3, 0, 0)
    async with db.transaction(readonly=True) as tx:
        entries = await tx.ledger.current(STORE, [d.order_id for d in drafts])
    assert {e.version for e in entries.values()} == {1}
    assert {e.date_modified for e in entries.values()} == {later}


async def test_an_order_twice_in_one_call_is_decided_after_its_first_read(db: Database) -> None:
    first = make_record(101, order_type=OrderType.UNCLASSIFIED, b2b=None, invoices=())
    second = first.model_copy(update={"status_id": 2, "date_modified": T0 + timedelta(minutes=1)})
    async with db.transaction() as tx:
        await tx.signals.put_metafields(STORE, [MetafieldSignal(101, "online order", "b2b")], T0)
    ctx = SyncContext(
        store=STORE,
        client=BigCommerceClient(store_hash=STORE, access_token="unused"),
        db=db,
        destinations=(Recorder().configured(Route()),),
    )
    async with db.transaction() as tx:
        summary = await process_drafts(ctx, tx, [first, second, second], T0)
    assert (summary.versions, summary.unchanged, summary.enqueued) == (2, 1, 2)
    async with db.transaction(readonly=True) as tx:
        detail = await tx.ledger.get_order(STORE, 101)
    assert detail is not None
    assert [v.version for v in detail.versions] == [2, 1]
    assert detail.versions[0].changed_fields == ("status_id",)
