"""The ledger on SQLite and PostgreSQL: versions only on content change, atomic with the outbox,
pending/held orders, history and the dashboard's list and detail queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Table, func, select

from b2bsync.domain.classification import Signals
from b2bsync.domain.fingerprint import WRITEBACK_MARKER, content_hash
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.records import B2BInfo
from b2bsync.domain.sync_state import SyncState
from b2bsync.store import (
    Database,
    LedgerError,
    LedgerQuery,
    ObservedOrder,
    OrderEvent,
    OutboxState,
    SeenVia,
)
from b2bsync.store.schema import order_versions, orders, outbox
from tests.integration.store_support import (
    ONLINE,
    PAYMENT,
    STORE,
    T0,
    db,
    later,
    make_delivery,
    make_record,
    write_version,
)

__all__ = ["db"]


async def count(database: Database, table: Table) -> int:
    async with database.transaction(readonly=True) as tx:
        return int(await tx.connection.scalar(select(func.count()).select_from(table)) or 0)


def observed(order_id: int, **changes: object) -> ObservedOrder:
    values: dict[str, object] = {
        "order_id": order_id,
        "status_id": 11,
        "date_created": T0,
        "date_modified": T0,
        "company_id": 7,
    }
    values.update(changes)
    return ObservedOrder(**values)  # type: ignore[arg-type]


async def test_first_version_holds_the_record_and_the_filterable_columns(db: Database) -> None:
    record = make_record(101)
    assert await write_version(db, record, later(1)) == 1
    async with db.transaction(readonly=True) as tx:
        entry = (await tx.ledger.current(STORE, [101, 999]))[101]
        assert set(await tx.ledger.current(STORE, [101, 999])) == {101}
    assert entry.version == 1
    assert entry.record == record
    assert entry.content_hash == content_hash(record)
    assert entry.order_type is OrderType.ONLINE_ORDER
    assert entry.sync_state is SyncState.READY
    assert (entry.company_id, entry.po_number, entry.invoice_ids) == (7, "PO-101", (601,))
    assert entry.classification_source is ONLINE.source
    assert entry.first_seen_via is SeenVia.POLL
    assert entry.date_created == T0
    assert entry.date_created.tzinfo is UTC
    assert entry.created_at == later(1)


async def test_same_content_writes_no_version_but_refreshes_observed_fields(db: Database) -> None:
    await write_version(db, make_record(101), later(1))
    # Our own write-back: a marker line in staff notes and a newer date_modified.
    echo = make_record(101, staff_notes=f"{WRITEBACK_MARKER} synced to ERP", date_modified=later(5))
    assert await write_version(db, echo, later(6)) is None
    async with db.transaction(readonly=True) as tx:
        entry = (await tx.ledger.current(STORE, [101]))[101]
    assert entry.version == 1
    assert entry.date_modified == later(5)
    assert entry.updated_at == later(6)
    assert await count(db, order_versions) == 1
    assert await count(db, outbox) == 1


async def test_changed_content_writes_the_next_version_with_its_changed_fields(
    db: Database,
) -> None:
    await write_version(db, make_record(101), later(1))
    changed = make_record(
        101,
        total_inc_tax=Decimal("12.5"),
        b2b=B2BInfo(company_id=7, company_name="Acme", po_number="PO-NEW"),
        staff_notes=f"{WRITEBACK_MARKER} ours",
        date_modified=later(2),
    )
    assert await write_version(db, changed, later(3)) == 2
    async with db.transaction(readonly=True) as tx:
        detail = await tx.ledger.get_order(STORE, 101)
    assert detail is not None
    assert [v.version for v in detail.versions] == [2, 1]
    assert detail.versions[0].changed_fields == ("b2b", "total_inc_tax")
    assert detail.versions[1].changed_fields is None
    assert detail.versions[0].record == changed
    assert detail.entry.po_number == "PO-NEW"
    assert [row.version for row in detail.outbox] == [2, 1]


async def test_reclassification_is_a_new_version_and_a_classified_event(db: Database) -> None:
    await write_version(db, make_record(101), later(1))
    as_payment = make_record(101, order_type=OrderType.INVOICE_PAYMENT, date_modified=later(2))
    assert await write_version(db, as_payment, later(3), classification=PAYMENT) == 2
    async with db.transaction(readonly=True) as tx:
        detail = await tx.ledger.get_order(STORE, 101)
    assert detail is not None
    assert detail.entry.order_type is OrderType.INVOICE_PAYMENT
    events = [e.event for e in detail.events]
    assert events == [
        OrderEvent.SEEN,
        OrderEvent.CLASSIFIED,
        OrderEvent.VERSIONED,
        OrderEvent.CLASSIFIED,
        OrderEvent.VERSIONED,
    ]
    assert detail.events[3].detail == {
        "order_type": "invoice_payment",
        "source": "b2b_order",
        "reason": PAYMENT.reason,
    }


async def test_a_stale_read_never_replaces_a_newer_version(db: Database) -> None:
    await write_version(db, make_record(101, date_modified=later(10)), later(11))
    stale = make_record(101, total_inc_tax=Decimal("1"), date_modified=later(5))
    assert await write_version(db, stale, later(12)) is None
    async with db.transaction(readonly=True) as tx:
        entry = (await tx.ledger.current(STORE, [101]))[101]
    assert entry.version == 1
    assert entry.record is not None
    assert entry.record.total_inc_tax == Decimal("10.0000")


async def test_an_exception_in_the_transaction_leaves_neither_version_nor_outbox(
    db: Database,
) -> None:
    await write_version(db, make_record(100), later(1))
    record = make_record(101)

    class Crash(Exception):
        pass

    async def write_then_crash() -> None:
        async with db.transaction() as tx:
            version = await tx.ledger.append_version(
                STORE, record, content_hash(record), ONLINE, later(2)
            )
            assert version == 1
            assert await tx.outbox.enqueue([("sql", make_delivery(record, 1))], later(2)) == 1
            raise Crash

    with pytest.raises(Crash):
        await write_then_crash()
    async with db.transaction(readonly=True) as tx:
        assert set(await tx.ledger.current(STORE, [100, 101])) == {100}
    assert await count(db, order_versions) == 1
    assert await count(db, outbox) == 1
    assert await count(db, orders) == 1


async def test_a_record_of_another_store_or_type_is_refused(db: Database) -> None:
    record = make_record(101)
    async with db.transaction() as tx:
        with pytest.raises(LedgerError, match="other"):
            await tx.ledger.append_version("other", record, "h", ONLINE, T0)
        with pytest.raises(LedgerError, match="classification"):
            await tx.ledger.append_version(STORE, record, "h", PAYMENT, T0)


async def test_pending_order_keeps_its_deadline_and_stamps_signals_when_first_seen(
    db: Database,
) -> None:
    async with db.transaction() as tx:
        first = await tx.ledger.mark_pending(
            STORE,
            observed(101),
            Signals(),
            later(0),
            next_check_at=later(1),
            deadline=later(60),
            seen_via=SeenVia.WEBHOOK,
        )
    assert first.sync_state is SyncState.PENDING_CLASSIFICATION
    assert (first.version, first.record, first.order_type) == (0, None, None)
    assert (first.pending_since, first.classification_deadline) == (later(0), later(60))
    assert (first.check_attempts, first.signals_seen_at) == (0, {})
    async with db.transaction() as tx:
        second = await tx.ledger.mark_pending(
            STORE,
            observed(101, status_id=9),
            Signals(lines_are_payment_product=False),
            later(1),
            next_check_at=later(3),
            deadline=later(99),
        )
    assert second.check_attempts == 1
    assert second.classification_deadline == later(60)
    assert second.pending_since == later(0)
    assert second.status_id == 9
    assert second.first_seen_via is SeenVia.WEBHOOK
    assert second.signals == Signals(lines_are_payment_product=False)
    assert second.signals_seen_at == {"lines_are_payment_product": later(1)}

    record = make_record(101)
    async with db.transaction() as tx:
        version = await tx.ledger.append_version(
            STORE,
            record,
            content_hash(record),
            ONLINE,
            later(4),
            signals=Signals(metafield_value="online order"),
        )
        assert version == 1
        entry = (await tx.ledger.current(STORE, [101]))[101]
    assert entry.sync_state is SyncState.READY
    assert (entry.pending_since, entry.next_check_at, entry.classification_deadline) == (
        None,
        None,
        None,
    )
    assert entry.signals == Signals(metafield_value="online order", lines_are_payment_product=False)
    assert entry.signals_seen_at == {
        "lines_are_payment_product": later(1),
        "metafield_value": later(4),
    }
    async with db.transaction() as tx:
        with pytest.raises(LedgerError, match="never pending again"):
            await tx.ledger.mark_pending(
                STORE, observed(101), Signals(), later(5), next_check_at=later(6), deadline=later(7)
            )


async def test_due_rechecks_are_the_overdue_pending_orders_of_the_store(db: Database) -> None:
    async with db.transaction() as tx:
        for order_id, minutes in ((1, 30), (2, 10), (3, 20), (4, 90)):
            await tx.ledger.mark_pending(
                STORE,
                observed(order_id),
                Signals(),
                T0,
                next_check_at=later(minutes),
                deadline=later(120),
            )
        await tx.ledger.mark_pending(
            "other", observed(5), Signals(), T0, next_check_at=later(1), deadline=later(120)
        )
        await tx.ledger.mark_held(STORE, 3, T0, "test")
    async with db.transaction(readonly=True) as tx:
        assert await tx.ledger.due_rechecks(STORE, later(60), limit=10) == [2, 1]
        assert await tx.ledger.due_rechecks(STORE, later(60), limit=1) == [2]
        assert await tx.ledger.due_rechecks(STORE, later(5), limit=10) == []
        held = (await tx.ledger.current(STORE, [3]))[3]
    assert held.sync_state is SyncState.HELD
    assert held.next_check_at is None


async def test_set_state_and_record_event_write_history(db: Database) -> None:
    await write_version(db, make_record(101), later(1))
    async with db.transaction() as tx:
        await tx.ledger.set_state(
            STORE, 101, SyncState.SKIPPED, later(2), event=OrderEvent.SKIPPED, detail={"why": "x"}
        )
        await tx.ledger.record_event(
            STORE, 101, OrderEvent.REPLAYED, later(3), {"by": "cli"}, destination="sql"
        )
        with pytest.raises(LedgerError, match="not in the ledger"):
            await tx.ledger.set_state(STORE, 999, SyncState.SKIPPED, later(2))
    async with db.transaction(readonly=True) as tx:
        detail = await tx.ledger.get_order(STORE, 101)
        assert await tx.ledger.get_order(STORE, 999) is None
    assert detail is not None
    assert detail.entry.sync_state is SyncState.SKIPPED
    last_two = [(e.event, e.destination, e.detail, e.at) for e in detail.events[-2:]]
    assert last_two == [
        (OrderEvent.SKIPPED, None, {"sync_state": "skipped", "why": "x"}, later(2)),
        (OrderEvent.REPLAYED, "sql", {"by": "cli"}, later(3)),
    ]


async def test_times_in_other_zones_are_stored_as_the_same_instant_in_utc(db: Database) -> None:
    plus_two = timezone(timedelta(hours=2))
    created = datetime(2026, 3, 1, 14, 0, tzinfo=plus_two)
    await write_version(db, make_record(101, date_created=created), later(1))
    async with db.transaction(readonly=True) as tx:
        entry = (await tx.ledger.current(STORE, [101]))[101]
        page = await tx.ledger.list_orders(LedgerQuery(created_from=T0, created_to=later(1)))
    assert entry.date_created == T0
    assert entry.date_created.utcoffset() == timedelta(0)
    assert [item.order_id for item in page.items] == [101]
    async with db.transaction() as tx:
        with pytest.raises(Exception, match="naive"):
            await tx.ledger.record_event(STORE, 101, OrderEvent.SEEN, datetime(2026, 1, 1))


async def _seed_list(db: Database) -> None:
    specs = [
        # order_id, store, type, company, status, created day offset, po
        (1, STORE, OrderType.ONLINE_ORDER, 7, 11, 0, "PO-Alpha"),
        (2, STORE, OrderType.INVOICE_PAYMENT, 7, 11, 1, ""),
        (3, STORE, OrderType.ONLINE_ORDER, 8, 2, 2, "po-alpine"),
        (4, STORE, OrderType.ONLINE_ORDER, 8, 11, 3, "PO_BETA"),
        (5, "other", OrderType.ONLINE_ORDER, 7, 11, 4, "PO-Alpha"),
        (44, STORE, OrderType.INVOICE_PAYMENT, 9, 10, 5, "X%"),
    ]
    for order_id, store, order_type, company, status, day, po in specs:
        record = make_record(
            order_id,
            store=store,
            order_type=order_type,
            status_id=status,
            date_created=T0 + timedelta(days=day),
            b2b=B2BInfo(company_id=company, po_number=po),
        )
        classification = PAYMENT if order_type is OrderType.INVOICE_PAYMENT else ONLINE
        assert await write_version(db, record, later(1), classification=classification) == 1
    async with db.transaction() as tx:
        await tx.outbox.mark_dead(1, "boom", later(2))


async def test_list_orders_filters_searches_and_pages_newest_first(db: Database) -> None:
    await _seed_list(db)

    async def ids(filters: LedgerQuery, page: int = 1, page_size: int = 50) -> list[int]:
        async with db.transaction(readonly=True) as tx:
            result = await tx.ledger.list_orders(filters, page=page, page_size=page_size)
        return [item.order_id for item in result.items]

    assert await ids(LedgerQuery()) == [44, 5, 4, 3, 2, 1]
    assert await ids(LedgerQuery(store=STORE)) == [44, 4, 3, 2, 1]
    assert await ids(LedgerQuery(order_type=OrderType.INVOICE_PAYMENT)) == [44, 2]
    assert await ids(LedgerQuery(sync_state=SyncState.DEAD)) == [1]
    assert await ids(LedgerQuery(company_id=8)) == [4, 3]
    assert await ids(LedgerQuery(status_id=11, store=STORE)) == [4, 2, 1]
    assert await ids(LedgerQuery(search="po-alp")) == [5, 3, 1]
    assert await ids(LedgerQuery(search="PO_")) == [4]
    assert await ids(LedgerQuery(search="x%")) == [44]
    assert await ids(LedgerQuery(search="4")) == [4]
    assert await ids(LedgerQuery(search="44")) == [44]
    window = LedgerQuery(created_from=T0 + timedelta(days=1), created_to=T0 + timedelta(days=3))
    assert await ids(window) == [3, 2]
    assert await ids(LedgerQuery(), page=2, page_size=4) == [2, 1]
    async with db.transaction(readonly=True) as tx:
        page = await tx.ledger.list_orders(LedgerQuery(store=STORE), page=1, page_size=2)
        with pytest.raises(ValueError, match="start at 1"):
            await tx.ledger.list_orders(LedgerQuery(), page=0)
    assert (page.total, page.pages, len(page.items)) == (5, 3, 2)
    first = page.items[0]
    assert (first.store, first.order_type, first.company_id, first.po_number) == (
        STORE,
        OrderType.INVOICE_PAYMENT,
        9,
        "X%",
    )
    async with db.transaction() as tx:
        await tx.ledger.mark_pending(
            STORE, observed(7), Signals(), later(0), next_check_at=later(1), deadline=later(60)
        )
    # An order with no type yet is unclassified to the reader, like a typed unclassified one.
    assert await ids(LedgerQuery(order_type=OrderType.UNCLASSIFIED)) == [7]
    assert 7 not in await ids(LedgerQuery(order_type=OrderType.ONLINE_ORDER))


async def test_get_order_gathers_versions_events_and_outbox_rows(db: Database) -> None:
    await write_version(db, make_record(101), later(1), destinations=("sql", "http"))
    await write_version(
        db, make_record(101, status_id=2, date_modified=later(2)), later(3), destinations=("sql",)
    )
    async with db.transaction() as tx:
        await tx.outbox.mark_delivered(1, later(4))
    async with db.transaction(readonly=True) as tx:
        detail = await tx.ledger.get_order(STORE, 101)
    assert detail is not None
    assert detail.entry.version == 2
    assert [(v.version, v.changed_fields) for v in detail.versions] == [
        (2, ("status_id",)),
        (1, None),
    ]
    assert [(row.version, row.destination, row.state) for row in detail.outbox] == [
        (2, "sql", OutboxState.PENDING),
        (1, "http", OutboxState.PENDING),
        (1, "sql", OutboxState.DELIVERED),
    ]
    assert [(e.event, e.destination) for e in detail.events] == [
        (OrderEvent.SEEN, None),
        (OrderEvent.CLASSIFIED, None),
        (OrderEvent.VERSIONED, None),
        (OrderEvent.VERSIONED, None),
        (OrderEvent.DELIVERED, "sql"),
    ]
