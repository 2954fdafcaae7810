"""The Invoice Portal against the sandbox on loopback: the reconciliation report on seeded data
with discrepancies the sandbox injects, and the actions (invoice from order, payment status,
PO / extra fields), each logged."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx2
import pytest

from b2bsync.domain.delivery import DeliveryKind
from b2bsync.domain.order_type import OrderType
from b2bsync.sandbox.discrepancies import BALANCE_SHIFT
from b2bsync.store import Database
from b2bsync.sync import run_once
from b2bsync.sync.loopback.invoices import (
    CHECKOUT_MODULE,
    ActionRefused,
    DiscrepancyKind,
    create_invoice_from_order,
    reconcile,
    set_order_fields,
    set_payment_status,
)
from b2bsync.sync.loopback.writeback import writeback_history
from tests.conftest import quiet_config
from tests.integration.sync_support import Recorder, ledger, sqlite_db, sync_context
from tests.sandbox_server import RunningSandbox, run_sandbox

__all__ = ["sqlite_db"]

DAYS = 7
NOT_INVOICED = {0, 4, 5, 6}


def _inject(sandbox: RunningSandbox) -> dict[str, list[int]]:
    response = httpx2.post(f"{sandbox.base_url}/__sandbox/discrepancies", headers=sandbox.headers())
    assert response.status_code == 201, response.text
    injected: dict[str, list[int]] = response.json()
    return injected


def _uninvoiced(sandbox: RunningSandbox) -> set[int]:
    """Ground truth: B2B online orders older than DAYS that no invoice bills."""
    state = sandbox.world.stores[sandbox.config.store_hash]
    cutoff = sandbox.world.clock() - timedelta(days=DAYS)
    billed = {invoice.order_number for invoice in state.invoices.values()}
    expected = set()
    for order in state.orders.values():
        customer = state.customers.get(order.customer_id)
        if (
            order.truth_kind == "online order"
            and customer is not None
            and customer.company_id is not None
            and not order.is_deleted
            and order.status_id not in NOT_INVOICED
            and order.date_created <= cutoff
            and str(order.id) not in billed
        ):
            expected.add(order.id)
    return expected


async def test_the_report_finds_exactly_the_injected_discrepancies(sqlite_db: Database) -> None:
    with run_sandbox(quiet_config(orders=80, seed=21)) as sandbox:
        async with sync_context(sandbox, sqlite_db) as ctx:
            await run_once(ctx)
            clean = await reconcile(ctx, invoice_after=timedelta(days=DAYS))
            assert clean.payments > 0
            assert clean.invoices > 0
            assert clean.invoice_payment_orders > 0
            for kind in (
                DiscrepancyKind.ORDER_WITHOUT_PAYMENT,
                DiscrepancyKind.PAYMENT_WITHOUT_ORDER,
                DiscrepancyKind.BALANCE_MISMATCH,
            ):
                assert clean.of(kind) == [], kind
            uninvoiced = _uninvoiced(sandbox)
            assert uninvoiced, "the seed should leave some B2B orders uninvoiced"
            found = {d.order_id for d in clean.of(DiscrepancyKind.ORDER_WITHOUT_INVOICE)}
            assert found == uninvoiced

            injected = _inject(sandbox)
            assert all(injected.values()), injected
            report = await reconcile(ctx, invoice_after=timedelta(days=DAYS))

            lost = report.of(DiscrepancyKind.ORDER_WITHOUT_PAYMENT)
            assert [d.order_id for d in lost] == injected["order_without_payment"]
            orphans = report.of(DiscrepancyKind.PAYMENT_WITHOUT_ORDER)
            assert [d.payment_id for d in orphans] == injected["payment_without_order"]
            wrong = report.of(DiscrepancyKind.BALANCE_MISMATCH)
            assert [d.invoice_id for d in wrong] == injected["balance_mismatch"]
            assert wrong[0].expected is not None
            assert wrong[0].actual is not None
            assert abs(Decimal(wrong[0].expected) - Decimal(wrong[0].actual)) == BALANCE_SHIFT

            body = report.as_json()
            assert body["counts"] == {
                "order_without_payment": 1,
                "payment_without_order": 1,
                "balance_mismatch": 1,
                "order_without_invoice": len(uninvoiced),
            }
            assert len(body["discrepancies"]) == 3 + len(uninvoiced)


async def test_invoice_payments_are_delivered_as_payments_with_their_invoices(
    sqlite_db: Database,
) -> None:
    recorder = Recorder()
    with run_sandbox(quiet_config(orders=40, seed=22)) as sandbox:
        async with sync_context(sandbox, sqlite_db, destinations=(recorder.configured(),)) as ctx:
            await run_once(ctx)
            state = sandbox.world.stores[ctx.store]
            payments = [d for d in recorder.received if d.kind is DeliveryKind.PAYMENT]
            assert payments
            for delivery in payments:
                record = delivery.record
                assert record.order_type is OrderType.INVOICE_PAYMENT
                assert record.b2b is not None
                assert record.b2b.payment_id is not None
                payment = state.payments[record.b2b.payment_id]
                assert payment.module_data["orderId"] == record.order_id
                by_invoice = {line.invoice_id: line.amount.value for line in payment.line_items}
                assert {link.invoice_id: link.amount for link in record.invoices} == by_invoice
                for link in record.invoices:
                    invoice = state.invoices[link.invoice_id]
                    assert link.invoice_number == invoice.invoice_number
                    assert link.open_balance == invoice.open_balance.value
                    assert link.currency == payment.total.code


async def test_create_an_invoice_from_an_online_order_once(sqlite_db: Database) -> None:
    with run_sandbox(quiet_config(orders=60, seed=23)) as sandbox:
        async with sync_context(sandbox, sqlite_db) as ctx:
            await run_once(ctx)
            order_id = min(_uninvoiced(sandbox))
            created = await create_invoice_from_order(ctx, order_id)
            state = sandbox.world.stores[ctx.store]
            invoice = state.invoices[created.invoice_id]
            assert invoice.order_number == str(order_id)
            assert invoice.invoice_number == created.invoice_number
            with pytest.raises(ActionRefused, match="already invoiced"):
                await create_invoice_from_order(ctx, order_id)
            payment_order = next(
                i
                for i, e in (await ledger(sqlite_db, ctx.store)).items()
                if e.order_type is OrderType.INVOICE_PAYMENT
            )
            with pytest.raises(ActionRefused, match="invoice payment"):
                await create_invoice_from_order(ctx, payment_order)
            logged = await writeback_history(sqlite_db, ctx.store, order_id)
            assert [(e.source, e.target) for e in logged] == [
                ("action:create_invoice", "b2b.invoice")
            ]
            assert logged[0].after is not None
            assert created.invoice_number in logged[0].after

            report = await reconcile(ctx, invoice_after=timedelta(days=DAYS))
            still = {d.order_id for d in report.of(DiscrepancyKind.ORDER_WITHOUT_INVOICE)}
            assert order_id not in still


async def test_payment_status_checks_allowed_statuses_first(sqlite_db: Database) -> None:
    with run_sandbox(quiet_config(orders=80, seed=21)) as sandbox:
        async with sync_context(sandbox, sqlite_db) as ctx:
            state = sandbox.world.stores[ctx.store]
            invoice = next(i for i in state.invoices.values() if i.open_balance.value > 1)
            offline = await ctx.client.b2b.create_offline_payment(
                {
                    "lineItems": [{"invoiceId": invoice.id, "amount": "1.00"}],
                    "currency": invoice.open_balance.code,
                    "details": {"memo": "cheque 42"},
                    "customerId": str(invoice.customer_id),
                    "processingStatus": 1,
                }
            )
            before = await set_payment_status(ctx, offline, 3)
            assert before.processing_status == 1
            assert state.payments[offline].processing_status == 3
            with pytest.raises(ActionRefused, match="allowed"):
                await set_payment_status(ctx, offline, 0)
            assert state.payments[offline].processing_status == 3
            refunded = await set_payment_status(ctx, offline, 4)
            assert refunded.processing_status == 3
            with pytest.raises(ActionRefused, match=r"allowed: \[4\]"):
                await set_payment_status(ctx, offline, 2)
            checkout = next(p for p in state.payments.values() if p.module_name == CHECKOUT_MODULE)
            with pytest.raises(ActionRefused, match="checkout"):
                await set_payment_status(ctx, checkout.id, 4)
            async with sqlite_db.transaction(readonly=True) as tx:
                recent = await tx.writebacks.recent(ctx.store)
            assert [(e.target, e.before, e.after) for e in reversed(recent)] == [
                (f"b2b.payment.{offline}.processing_status", "1", "3"),
                (f"b2b.payment.{offline}.processing_status", "3", "4"),
            ]


async def test_set_po_number_and_extra_fields_writes_only_differences(sqlite_db: Database) -> None:
    with run_sandbox(quiet_config(orders=40, seed=25)) as sandbox:
        async with sync_context(sandbox, sqlite_db) as ctx:
            state = sandbox.world.stores[ctx.store]
            order_id = next(
                i
                for i, r in sorted(state.b2b_orders.items())
                if any(f.field_name == "Cost Center" and f.field_value for f in r.extra_fields)
            )
            entries = await set_order_fields(
                ctx, order_id, po_number="PO-ERP-1", extra_fields={"Buyer Notes": "from ERP"}
            )
            assert {e.target for e in entries} == {"b2b.po_number", "b2b.extra_fields.Buyer Notes"}
            record = state.b2b_orders[order_id]
            assert record.po_number == "PO-ERP-1"
            extra = {f.field_name: f.field_value for f in record.extra_fields}
            assert extra["Buyer Notes"] == "from ERP"
            assert extra["Cost Center"], "the other extra fields are kept"
            again = await set_order_fields(
                ctx, order_id, po_number="PO-ERP-1", extra_fields={"Buyer Notes": "from ERP"}
            )
            assert again == []
            assert len(await writeback_history(sqlite_db, ctx.store, order_id)) == 2
