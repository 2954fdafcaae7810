"""The conformance suite every destination passes, and the delivery factory its tests share.

A destination's test module subclasses `DestinationConformance` and provides a `harness` fixture:
a `Harness` wrapping the destination (built with `max_batch=MAX_BATCH`) and reading back what it
really did (rows, lines, requests received, calls), never what it reported.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from b2bsync.destinations import Destination
from b2bsync.domain.delivery import (
    Delivery,
    DeliveryResult,
    Outcome,
    delivery_kind,
    idempotency_key,
)
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.records import (
    Address,
    B2BInfo,
    InvoiceLink,
    InvoiceRole,
    LineItem,
    OrderRecord,
)

STORE = "conformstore"
MAX_BATCH = 3
"""Harnesses build destinations with this batch limit so batches of a few items span chunks."""

_CREATED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def make_record(
    order_id: int,
    *,
    version: int = 1,
    order_type: OrderType = OrderType.ONLINE_ORDER,
    status_id: int = 11,
    store: str = STORE,
    po_number: str = "",
) -> OrderRecord:
    """A realistic record; `version` shows in `date_modified` and the staff notes so that two
    versions of one order differ in content, as ledger versions do."""
    b2b = B2BInfo(
        company_id=40 + order_id % 7,
        company_name="Acme Industrial Supply",
        b2b_order_id=9000 + order_id,
        po_number=po_number or f"PO-{order_id}",
        extra_fields={"Cost center": "CC-12"},
    )
    if order_type is OrderType.INVOICE_PAYMENT:
        lines = (
            LineItem(
                id=order_id * 10,
                product_id=0,
                name="Invoice Payment",
                type="digital",
                quantity=1,
                price_ex_tax=Decimal("250.0000"),
                price_inc_tax=Decimal("250.0000"),
                total_ex_tax=Decimal("250.0000"),
                total_inc_tax=Decimal("250.0000"),
            ),
        )
        invoices: tuple[InvoiceLink, ...] = (
            InvoiceLink(
                invoice_id=700 + order_id,
                invoice_number=f"INV-{700 + order_id}",
                role=InvoiceRole.PAID_BY_ORDER,
                amount=Decimal("150.0000"),
                currency="USD",
                open_balance=Decimal("0.0000"),
            ),
            InvoiceLink(
                invoice_id=800 + order_id,
                invoice_number=f"INV-{800 + order_id}",
                role=InvoiceRole.PAID_BY_ORDER,
                amount=Decimal("100.0000"),
                currency="USD",
                open_balance=Decimal("20.5000"),
            ),
        )
        b2b = b2b.model_copy(update={"po_number": "", "payment_id": 5000 + order_id})
        shipping: tuple[Address, ...] = ()
    else:
        lines = (
            LineItem(
                id=order_id * 10,
                product_id=77,
                variant_id=78,
                sku="BOLT-M8",
                name="Hex bolt M8 (box of 100)",
                quantity=3,
                price_ex_tax=Decimal("12.5000"),
                price_inc_tax=Decimal("13.7500"),
                total_ex_tax=Decimal("37.5000"),
                total_inc_tax=Decimal("41.2500"),
            ),
        )
        invoices = ()
        shipping = (Address(first_name="Dana", last_name="Ruiz", city="Austin", zip="78701"),)
    total = sum((line.total_inc_tax for line in lines), start=Decimal("0"))
    return OrderRecord(
        store=store,
        order_id=order_id,
        order_type=order_type,
        status_id=status_id,
        status="Awaiting Fulfillment",
        date_created=_CREATED,
        date_modified=_CREATED + timedelta(minutes=version),
        customer_id=12,
        currency="USD",
        subtotal_ex_tax=total,
        subtotal_inc_tax=total,
        total_ex_tax=total,
        total_inc_tax=total,
        payment_method="Invoice Portal" if order_type is OrderType.INVOICE_PAYMENT else "PO",
        staff_notes=f"version {version}",
        billing_address=Address(first_name="Dana", last_name="Ruiz", company="Acme"),
        shipping_addresses=shipping,
        line_items=lines,
        b2b=b2b,
        invoices=invoices,
    )


def make_delivery(
    order_id: int,
    version: int = 1,
    *,
    order_type: OrderType = OrderType.ONLINE_ORDER,
    status_id: int = 11,
    store: str = STORE,
    po_number: str = "",
) -> Delivery:
    """The outbox's delivery of `version` of order `order_id`."""
    record = make_record(
        order_id,
        version=version,
        order_type=order_type,
        status_id=status_id,
        store=store,
        po_number=po_number,
    )
    return Delivery(
        idempotency_key=idempotency_key(store, order_id, version),
        store=store,
        order_id=order_id,
        version=version,
        kind=delivery_kind(order_type),
        record=record,
    )


def inconsistent_delivery(order_id: int) -> Delivery:
    """A delivery whose key names another version than it carries: no destination may book it."""
    good = make_delivery(order_id, 2)
    return good.model_copy(update={"idempotency_key": idempotency_key(STORE, order_id, 1)})


def record_json(delivery: Delivery) -> dict[str, Any]:
    """The record as destinations write it (JSON types)."""
    return delivery.record.model_dump(mode="json")


class Harness(abc.ABC):
    """A destination under test and the means to observe its real effect."""

    destination: Destination
    monotonic: bool = False
    """Whether the destination keeps only an order's newest version visible."""

    @abc.abstractmethod
    async def stored(self) -> dict[str, dict[str, Any]]:
        """Idempotency key → record JSON, for everything the destination holds."""

    @abc.abstractmethod
    async def effect(self) -> object:
        """A snapshot of everything observable, compared before and after a re-delivery."""

    async def current_versions(self) -> dict[tuple[str, int], int]:
        """(store, order_id) → the version the destination shows now (monotonic ones only)."""
        raise NotImplementedError

    def poison(self) -> list[Delivery]:
        """Deliveries this destination itself cannot take (order ids ≥ 900)."""
        return []


def _keys(batch: Sequence[Delivery]) -> list[str]:
    return [delivery.idempotency_key for delivery in batch]


def _outcomes(results: Sequence[DeliveryResult]) -> list[Outcome]:
    return [result.outcome for result in results]


class DestinationConformance:
    """Every destination: one result per item in order; fresh batches delivered with their
    content intact; re-delivery a no-op; newest version wins where expressible; a bad item
    fails alone."""

    async def test_fresh_batch_is_delivered_with_its_content(self, harness: Harness) -> None:
        batch = [
            make_delivery(1),
            make_delivery(2, order_type=OrderType.INVOICE_PAYMENT),
            make_delivery(3, 4),
            make_delivery(4, status_id=2),
            make_delivery(5, order_type=OrderType.INVOICE_PAYMENT, status_id=10),
        ]
        results = await harness.destination.deliver(batch)
        assert _keys(batch) == [result.idempotency_key for result in results]
        assert _outcomes(results) == [Outcome.DELIVERED] * len(batch)
        assert all(result.error is None for result in results)
        assert await harness.stored() == {d.idempotency_key: record_json(d) for d in batch}

    async def test_empty_batch_gives_no_results(self, harness: Harness) -> None:
        assert await harness.destination.deliver([]) == []
        assert await harness.stored() == {}

    async def test_redelivery_is_a_no_op_reported_delivered(self, harness: Harness) -> None:
        batch = [make_delivery(order_id) for order_id in range(10, 17)]
        assert _outcomes(await harness.destination.deliver(batch)) == [Outcome.DELIVERED] * 7
        before = await harness.effect()
        again = await harness.destination.deliver(list(reversed(batch)))
        assert _keys(again) == _keys(list(reversed(batch)))
        assert _outcomes(again) == [Outcome.DELIVERED] * 7
        assert await harness.effect() == before
        # The same key twice in one batch is booked once too.
        twice = [make_delivery(20), make_delivery(20)]
        assert _outcomes(await harness.destination.deliver(twice)) == [Outcome.DELIVERED] * 2
        after_twice = await harness.effect()
        assert _outcomes(await harness.destination.deliver(twice[:1])) == [Outcome.DELIVERED]
        assert await harness.effect() == after_twice
        assert set(await harness.stored()) == set(_keys(batch)) | {twice[0].idempotency_key}

    async def test_an_item_that_cannot_be_handled_fails_alone(self, harness: Harness) -> None:
        bad = [inconsistent_delivery(901), *harness.poison()]
        good = [make_delivery(order_id) for order_id in range(30, 30 + len(bad) + 3)]
        # Bad items first, between and last, spanning several chunks of MAX_BATCH.
        batch: list[Delivery] = []
        for index, delivery in enumerate(good):
            if index < len(bad):
                batch.append(bad[index])
            batch.append(delivery)
        batch.append(inconsistent_delivery(902))
        results = await harness.destination.deliver(batch)
        assert _keys(batch) == [result.idempotency_key for result in results]
        bad_keys = {d.idempotency_key for d in batch if d.order_id >= 900}
        for delivery, result in zip(batch, results, strict=True):
            if delivery.order_id >= 900:
                assert result.outcome is Outcome.DEAD, result
                assert result.error
            else:
                assert result.outcome is Outcome.DELIVERED, result
        stored = await harness.stored()
        assert set(stored) == {d.idempotency_key for d in good}
        assert not bad_keys & set(stored)

    async def test_versions_of_one_order(self, harness: Harness) -> None:
        """Monotonic destinations keep the newest version visible; the others forward every
        version under its own key and leave ordering to their receiver."""
        first = await harness.destination.deliver([make_delivery(40, 1), make_delivery(41, 3)])
        assert _outcomes(first) == [Outcome.DELIVERED] * 2
        # Newer replaces; an older version arriving late (a replay) is acknowledged.
        late = [make_delivery(40, 2), make_delivery(41, 2), make_delivery(41, 1)]
        assert _outcomes(await harness.destination.deliver(late)) == [Outcome.DELIVERED] * 3
        # Within one batch too: v5 then v4 of order 42.
        mixed = [make_delivery(42, 5), make_delivery(42, 4)]
        assert _outcomes(await harness.destination.deliver(mixed)) == [Outcome.DELIVERED] * 2
        stored = await harness.stored()
        assert stored[idempotency_key(STORE, 40, 2)] == record_json(make_delivery(40, 2))
        assert stored[idempotency_key(STORE, 41, 3)] == record_json(make_delivery(41, 3))
        assert stored[idempotency_key(STORE, 42, 5)] == record_json(make_delivery(42, 5))
        if harness.monotonic:
            assert await harness.current_versions() == {
                (STORE, 40): 2,
                (STORE, 41): 3,
                (STORE, 42): 5,
            }
            assert idempotency_key(STORE, 41, 2) not in stored
            assert idempotency_key(STORE, 42, 4) not in stored
        else:
            every = [*first, *late, *mixed]
            assert set(stored) == {result.idempotency_key for result in every}
