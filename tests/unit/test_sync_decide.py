"""The pure decision core: what a read of an order does to the ledger, without any I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2bsync.destinations.routing import Route
from b2bsync.domain.classification import SignalSource, UnclassifiedPolicy
from b2bsync.domain.delivery import DeliveryKind
from b2bsync.domain.fingerprint import content_hash
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.records import LineItem, OrderRecord
from b2bsync.domain.sync_state import SyncState
from b2bsync.store.errors import LedgerError
from b2bsync.store.ledger import CurrentRow
from b2bsync.store.signals import OrderSignalRow, SignalBundle
from b2bsync.sync.decide import (
    DecisionPolicy,
    Held,
    NewVersion,
    Pending,
    PendingEnd,
    Unchanged,
    VersionEnd,
    decide,
    decide_one,
)
from b2bsync.sync.mapping import compose

STORE = "store1"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=5)
POLICY = DecisionPolicy(
    store=STORE,
    classification_deadline=timedelta(minutes=30),
    policy=UnclassifiedPolicy.HOLD,
    recheck_base=timedelta(seconds=30),
    recheck_cap=timedelta(minutes=10),
    routes=(
        ("erp", Route()),
        ("orders_only", Route(order_types=frozenset({OrderType.ONLINE_ORDER}))),
    ),
)
ONLINE = SignalBundle(signal=OrderSignalRow(order_id=101, metafield_value="online order"))
PAYMENT = SignalBundle(signal=OrderSignalRow(order_id=101, is_invoice_order=True))
NO_SIGNAL = SignalBundle()


def draft(order_id: int = 101, **changes: object) -> OrderRecord:
    """A V2 draft (not classified yet) of one line, modified at T0."""
    base = OrderRecord(
        store=STORE,
        order_id=order_id,
        order_type=OrderType.UNCLASSIFIED,
        status_id=11,
        status="Awaiting Fulfillment",
        date_created=T0,
        date_modified=T0,
        currency="USD",
        total_inc_tax=Decimal("10.0000"),
        line_items=(
            LineItem(
                id=1,
                product_id=7,
                name="Widget",
                quantity=1,
                price_ex_tax=Decimal("10"),
                price_inc_tax=Decimal("10"),
                total_ex_tax=Decimal("10"),
                total_inc_tax=Decimal("10"),
            ),
        ),
    )
    return base.model_copy(update=changes)


def row_of(found: NewVersion, **changes: object) -> CurrentRow:
    """The ledger row `found` leaves behind."""
    values: dict[str, object] = {
        "order_id": found.order_id,
        "order_type": found.classification.order_type,
        "sync_state": SyncState.READY,
        "version": found.version,
        "date_modified": found.record.date_modified,
        "content_hash": found.content_hash,
        "record": found.body,
        "classification_source": found.classification.source,
        "classification_reason": found.classification.reason,
        "signals": found.signals,
        "signals_seen_at": found.signals_seen_at,
        "pending_since": None,
        "check_attempts": 0,
        "classification_deadline": None,
    }
    values.update(changes)
    return CurrentRow(**values)  # type: ignore[arg-type]


def pending_row(**changes: object) -> CurrentRow:
    values: dict[str, object] = {
        "order_id": 101,
        "order_type": None,
        "sync_state": SyncState.PENDING_CLASSIFICATION,
        "version": 0,
        "date_modified": T0,
        "content_hash": None,
        "record": None,
        "classification_source": None,
        "classification_reason": None,
        "signals": {},
        "signals_seen_at": {},
        "pending_since": T0,
        "check_attempts": 2,
        "classification_deadline": T0 + timedelta(minutes=30),
    }
    values.update(changes)
    return CurrentRow(**values)  # type: ignore[arg-type]


def test_a_new_online_order_is_version_1_queued_for_every_accepting_destination() -> None:
    found = decide_one(draft(), None, ONLINE, NOW, POLICY)
    assert isinstance(found, NewVersion)
    assert (found.version, found.new, found.reclassified, found.changed_fields) == (
        1,
        True,
        True,
        None,
    )
    assert found.record.order_type is OrderType.ONLINE_ORDER
    assert found.content_hash == content_hash(found.record)
    assert found.body == found.record.model_dump(mode="json")
    assert [name for name, _ in found.deliveries] == ["erp", "orders_only"]
    assert {d.idempotency_key for _, d in found.deliveries} == {f"{STORE}:101:1"}
    assert found.signals == {"metafield_value": "online order"}
    assert found.signals_seen_at == {"metafield_value": NOW.isoformat()}


def test_an_invoice_payment_is_a_payment_and_skips_order_only_destinations() -> None:
    found = decide_one(draft(), None, PAYMENT, NOW, POLICY)
    assert isinstance(found, NewVersion)
    assert found.record.order_type is OrderType.INVOICE_PAYMENT
    assert [(name, d.kind) for name, d in found.deliveries] == [("erp", DeliveryKind.PAYMENT)]


def test_the_same_content_is_unchanged_and_refreshes_the_observed_fields() -> None:
    first = decide_one(draft(), None, ONLINE, NOW, POLICY)
    assert isinstance(first, NewVersion)
    touched = draft(date_modified=T0 + timedelta(minutes=1))
    found = decide_one(touched, row_of(first), ONLINE, NOW, POLICY)
    assert isinstance(found, Unchanged)
    assert found.refreshed is not None
    assert found.refreshed.date_modified == touched.date_modified


def test_a_read_older_than_the_ledger_writes_nothing() -> None:
    first = decide_one(draft(date_modified=T0 + timedelta(minutes=1)), None, ONLINE, NOW, POLICY)
    assert isinstance(first, NewVersion)
    found = decide_one(draft(status_id=2), row_of(first), ONLINE, NOW, POLICY)
    assert found == Unchanged(101, None, first.signals, first.signals_seen_at)


def test_a_change_is_the_next_version_naming_the_changed_fields() -> None:
    first = decide_one(draft(), None, ONLINE, NOW, POLICY)
    assert isinstance(first, NewVersion)
    changed = draft(status_id=2, status="Shipped", date_modified=T0 + timedelta(minutes=1))
    found = decide_one(changed, row_of(first), ONLINE, NOW, POLICY)
    assert isinstance(found, NewVersion)
    assert (found.version, found.new, found.reclassified) == (2, False, False)
    assert found.changed_fields == ("status", "status_id")
    assert {d.idempotency_key for _, d in found.deliveries} == {f"{STORE}:101:2"}


def test_an_order_without_a_signal_waits_with_backoff_before_its_deadline() -> None:
    found = decide_one(draft(), None, NO_SIGNAL, NOW, POLICY)
    assert isinstance(found, Pending)
    assert (found.end, found.new, found.check_attempts) == (PendingEnd.WAITING, True, 0)
    assert found.deadline == NOW + timedelta(minutes=30)
    assert found.next_check_at == NOW + timedelta(seconds=30)
    again = decide_one(draft(), pending_row(), NO_SIGNAL, NOW, POLICY)
    assert isinstance(again, Pending)
    assert (again.new, again.check_attempts, again.pending_since) == (False, 3, T0)
    assert again.deadline == T0 + timedelta(minutes=30)
    assert again.next_check_at == NOW + timedelta(seconds=120)


def test_past_its_deadline_an_order_is_held_and_then_stays_held() -> None:
    late = T0 + timedelta(hours=1)
    found = decide_one(draft(), pending_row(), NO_SIGNAL, late, POLICY)
    assert isinstance(found, Pending)
    assert (found.end, found.next_check_at) == (PendingEnd.HELD, None)
    held = pending_row(sync_state=SyncState.HELD)
    assert decide_one(draft(), held, NO_SIGNAL, late, POLICY) == Held(101)


def test_past_its_deadline_the_policy_can_deliver_it_unclassified() -> None:
    policy = DecisionPolicy(
        **{
            **{name: getattr(POLICY, name) for name in POLICY.__slots__},
            "policy": UnclassifiedPolicy.DELIVER_UNCLASSIFIED,
            "routes": (("all", Route(order_types=None)),),
        }
    )
    found = decide_one(draft(), pending_row(), NO_SIGNAL, T0 + timedelta(hours=1), policy)
    assert isinstance(found, NewVersion)
    assert found.record.order_type is OrderType.UNCLASSIFIED
    assert found.classification.source is SignalSource.POLICY
    assert (found.version, found.new, found.reclassified) == (1, False, True)


def test_an_incomplete_checkout_is_never_delivered() -> None:
    found = decide_one(draft(status_id=0), None, NO_SIGNAL, NOW, POLICY)
    assert isinstance(found, Pending)
    assert found.end is PendingEnd.INCOMPLETE
    versioned = decide_one(draft(status_id=0), None, ONLINE, NOW, POLICY)
    assert isinstance(versioned, NewVersion)
    assert (versioned.end, versioned.deliveries) == (VersionEnd.INCOMPLETE, ())


def test_an_order_of_another_channel_is_versioned_but_not_delivered() -> None:
    policy = DecisionPolicy(
        **{
            **{name: getattr(POLICY, name) for name in POLICY.__slots__},
            "channels": frozenset({1}),
        }
    )
    found = decide_one(draft(channel_id=2), None, ONLINE, NOW, policy)
    assert isinstance(found, NewVersion)
    assert (found.end, found.deliveries) == (VersionEnd.OTHER_CHANNEL, ())


def test_a_versioned_order_keeps_its_type_when_its_signal_is_gone() -> None:
    first = decide_one(draft(), None, PAYMENT, NOW, POLICY)
    assert isinstance(first, NewVersion)
    row = row_of(first, signals={})
    changed = draft(status_id=2, date_modified=T0 + timedelta(minutes=1))
    found = decide_one(changed, row, NO_SIGNAL, NOW, POLICY)
    assert isinstance(found, NewVersion)
    assert found.record.order_type is OrderType.INVOICE_PAYMENT


def test_a_classified_order_is_never_pending_again() -> None:
    broken = pending_row(version=1)
    with pytest.raises(LedgerError, match="never pending again"):
        decide_one(draft(), broken, NO_SIGNAL, NOW, POLICY)


# Properties over arbitrary drafts, signals and ledger rows.

metafields = st.sampled_from([None, "online order", "invoice payment", "Invoice_Payment", "x"])
flags = st.sampled_from([None, True, False])
bundles = st.builds(
    lambda metafield, invoice: SignalBundle(
        signal=(
            OrderSignalRow(order_id=101, metafield_value=metafield, is_invoice_order=invoice)
            if metafield is not None or invoice is not None
            else None
        )
    ),
    metafields,
    flags,
)
drafts = st.builds(
    lambda status_id, minutes, total: draft(
        status_id=status_id,
        date_modified=T0 + timedelta(minutes=minutes),
        total_inc_tax=Decimal(total),
    ),
    st.sampled_from([0, 1, 2, 11]),
    st.integers(0, 10),
    st.sampled_from(["10", "10.0000", "12.5"]),
)
moments = st.integers(0, 120).map(lambda minutes: T0 + timedelta(minutes=minutes))


@given(drafts, drafts, bundles, moments)
def test_an_unchanged_content_hash_never_yields_a_version(
    before: OrderRecord, after: OrderRecord, bundle: SignalBundle, now: datetime
) -> None:
    first = decide_one(before, None, bundle, now, POLICY)
    if not isinstance(first, NewVersion):
        return
    found = decide_one(after, row_of(first), bundle, now, POLICY)
    recomposed = compose(after, bundle, first.record.order_type)
    if content_hash(recomposed) == first.content_hash:
        assert isinstance(found, Unchanged)
    if isinstance(found, NewVersion):
        assert found.version == first.version + 1
        assert found.content_hash != first.content_hash


@given(drafts, st.integers(0, 29))
def test_without_a_signal_before_its_deadline_an_order_is_pending(
    order: OrderRecord, minutes: int
) -> None:
    found = decide_one(order, None, NO_SIGNAL, T0 + timedelta(minutes=minutes), POLICY)
    assert isinstance(found, Pending)
    assert found.end is (PendingEnd.INCOMPLETE if order.status_id == 0 else PendingEnd.WAITING)
    assert found.deadline > T0 + timedelta(minutes=minutes)


@given(drafts, flags, moments)
def test_an_invoice_payment_never_becomes_an_online_order(
    order: OrderRecord, invoice: bool | None, now: datetime
) -> None:
    signal = OrderSignalRow(
        order_id=101, metafield_value="invoice payment", is_invoice_order=invoice
    )
    found = decide_one(order, None, SignalBundle(signal=signal), now, POLICY)
    assert isinstance(found, NewVersion)
    assert found.record.order_type is OrderType.INVOICE_PAYMENT
    assert all(d.kind is DeliveryKind.PAYMENT for _, d in found.deliveries)
    assert "orders_only" not in {name for name, _ in found.deliveries}


@given(st.lists(st.tuples(st.integers(1, 50), bundles), unique_by=lambda t: t[0], max_size=8))
def test_decide_answers_each_draft_in_order(items: list[tuple[int, SignalBundle]]) -> None:
    page = [draft(order_id) for order_id, _ in items]
    found = decide(page, {}, {order_id: bundle for order_id, bundle in items}, NOW, POLICY)
    assert [d.order_id for d in found] == [order_id for order_id, _ in items]
    assert all(not isinstance(d, (Held, Unchanged)) for d in found)
