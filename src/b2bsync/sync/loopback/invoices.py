"""The Invoice Portal: the reconciliation report and the actions b2bsync offers on it.

The report compares what B2B Edition holds now (payments and invoices, read live) with what the
ledger knows of the orders (their type, company, age):

- `order_without_payment`: an invoice-payment order no checkout payment points to;
- `payment_without_order`: a checkout payment whose `moduleData.orderId` is no BigCommerce order;
- `balance_mismatch`: an invoice whose open balance is not its original balance minus the
  payments applied to it;
- `order_without_invoice`: a B2B online order older than N days that no invoice bills.

Actions (each logged in the write-back log): create an invoice from an online order, move an
offline payment's processing status after checking `allowedStatuses`, set a B2B order's PO
number or extra fields.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import structlog

from b2bsync import B2BSyncError
from b2bsync.bigcommerce import NotFound
from b2bsync.bigcommerce.models.b2b import Invoice, InvoiceCreated, Payment
from b2bsync.domain.order_type import OrderType
from b2bsync.store import LedgerQuery, OrderSummary
from b2bsync.store.writebacks import WritebackEntry
from b2bsync.sync.context import SyncContext

__all__ = [
    "CHECKOUT_MODULE",
    "ActionRefused",
    "Discrepancy",
    "DiscrepancyKind",
    "ReconcileReport",
    "create_invoice_from_order",
    "reconcile",
    "set_order_fields",
    "set_payment_status",
]

log = structlog.get_logger("b2bsync.invoices")

CHECKOUT_MODULE = "payments_bigcommerce_sales_order"
"""`moduleName` of payments made through the BigCommerce checkout (they have an order)."""

_NOT_INVOICED_STATUSES = frozenset({0, 4, 5, 6})
"""Incomplete, refunded, cancelled and declined orders are not expected to be invoiced."""

_CENT = Decimal("0.01")


class ActionRefused(B2BSyncError):
    """The action would be wrong for this order or payment; nothing was changed."""


class DiscrepancyKind(StrEnum):
    ORDER_WITHOUT_PAYMENT = "order_without_payment"
    PAYMENT_WITHOUT_ORDER = "payment_without_order"
    BALANCE_MISMATCH = "balance_mismatch"
    ORDER_WITHOUT_INVOICE = "order_without_invoice"

    def rule(self, invoice_after_days: int) -> str:
        """The rule that found it, in words, for a person reading the report."""
        return {
            DiscrepancyKind.ORDER_WITHOUT_PAYMENT: (
                "an invoice-payment order that no checkout payment points to"
            ),
            DiscrepancyKind.PAYMENT_WITHOUT_ORDER: (
                "a checkout payment whose order is not a BigCommerce order"
            ),
            DiscrepancyKind.BALANCE_MISMATCH: (
                "an invoice whose open balance is not its original balance minus the payments "
                "applied to it"
            ),
            DiscrepancyKind.ORDER_WITHOUT_INVOICE: (
                f"a B2B online order older than {invoice_after_days} days that no invoice bills "
                "(--days sets the age; stores that invoice later expect many)"
            ),
        }[self]


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One finding of the report."""

    kind: DiscrepancyKind
    detail: str
    order_id: int | None = None
    payment_id: int | None = None
    invoice_id: int | None = None
    expected: str | None = None
    actual: str | None = None


@dataclass(slots=True)
class ReconcileReport:
    """Findings plus what was compared."""

    at: datetime
    payments: int = 0
    invoices: int = 0
    invoice_payment_orders: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)

    def of(self, kind: DiscrepancyKind) -> list[Discrepancy]:
        """The findings of one kind."""
        return [item for item in self.discrepancies if item.kind is kind]

    def as_json(self) -> dict[str, Any]:
        """The report as plain JSON (for `--json`)."""
        counts = {kind.value: len(self.of(kind)) for kind in DiscrepancyKind}
        return {
            "at": self.at.isoformat(),
            "compared": {
                "payments": self.payments,
                "invoices": self.invoices,
                "invoice_payment_orders": self.invoice_payment_orders,
            },
            "counts": counts,
            "discrepancies": [
                {**asdict(item), "kind": item.kind.value} for item in self.discrepancies
            ],
        }


def _money(value: Decimal) -> str:
    return str(value.quantize(_CENT))


async def _ledger_orders(ctx: SyncContext) -> list[OrderSummary]:
    async with ctx.db.transaction(readonly=True) as tx:
        page = await tx.ledger.list_orders(
            LedgerQuery(store=ctx.store, include_archived=False), page_size=1_000_000
        )
    return list(page.items)


def _balance_findings(
    invoices: Sequence[Invoice], payments: Sequence[Payment]
) -> list[Discrepancy]:
    applied: dict[int, Decimal] = defaultdict(Decimal)
    for payment in payments:
        if payment.applied_status == 1:
            for line in payment.line_items:
                applied[line.invoice_id] += line.amount.value
    findings = []
    for invoice in invoices:
        expected = max(invoice.original_balance.value - applied[invoice.id], Decimal("0"))
        actual = invoice.open_balance.value
        if abs(expected - actual) >= _CENT:
            findings.append(
                Discrepancy(
                    DiscrepancyKind.BALANCE_MISMATCH,
                    f"{invoice.invoice_number}: open balance {_money(actual)}, but original "
                    f"{_money(invoice.original_balance.value)} minus applied payments "
                    f"{_money(applied[invoice.id])} is {_money(expected)}",
                    invoice_id=invoice.id,
                    expected=_money(expected),
                    actual=_money(actual),
                )
            )
    return findings


async def reconcile(
    ctx: SyncContext, *, invoice_after: timedelta = timedelta(days=7)
) -> ReconcileReport:
    """The reconciliation report of the store (see the module docstring). Reads every payment
    and invoice from B2B Edition, the orders from the ledger (run a sync first), and V2 only for
    checkout payments whose order the ledger does not know."""
    now = ctx.clock()
    payments = [payment async for payment in ctx.client.b2b.payments()]
    invoices = [invoice async for invoice in ctx.client.b2b.invoices()]
    orders = {summary.order_id: summary for summary in await _ledger_orders(ctx)}
    report = ReconcileReport(at=now, payments=len(payments), invoices=len(invoices))

    paid_orders: dict[int, int] = {}
    for payment in payments:
        if payment.module_name != CHECKOUT_MODULE:
            continue
        order_id = payment.bc_order_id
        if order_id is not None:
            paid_orders[order_id] = payment.id
        if order_id is not None and order_id in orders:
            continue
        if order_id is not None:
            try:
                await ctx.client.orders.get(order_id)
                continue
            except NotFound:
                pass
        report.discrepancies.append(
            Discrepancy(
                DiscrepancyKind.PAYMENT_WITHOUT_ORDER,
                f"checkout payment {payment.id} names order {order_id}, which does not exist",
                order_id=order_id,
                payment_id=payment.id,
                actual=_money(payment.total.value),
            )
        )

    invoiced = {
        int(invoice.order_number)
        for invoice in invoices
        if invoice.order_number and invoice.order_number.strip().isdigit()
    }
    cutoff = now - invoice_after
    for order in sorted(orders.values(), key=lambda summary: summary.order_id):
        if order.order_type is OrderType.INVOICE_PAYMENT and order.status_id != 0:
            report.invoice_payment_orders += 1
            if order.order_id not in paid_orders:
                report.discrepancies.append(
                    Discrepancy(
                        DiscrepancyKind.ORDER_WITHOUT_PAYMENT,
                        f"invoice payment order {order.order_id} has no payment record",
                        order_id=order.order_id,
                    )
                )
        elif (
            order.order_type is OrderType.ONLINE_ORDER
            and order.company_id is not None
            and order.status_id not in _NOT_INVOICED_STATUSES
            and order.date_created <= cutoff
            and order.order_id not in invoiced
        ):
            age = (now - order.date_created).days
            report.discrepancies.append(
                Discrepancy(
                    DiscrepancyKind.ORDER_WITHOUT_INVOICE,
                    f"online order {order.order_id} of company {order.company_id} has no "
                    f"invoice after {age} days",
                    order_id=order.order_id,
                )
            )
    report.discrepancies.extend(_balance_findings(invoices, payments))
    log.info(
        "invoices.reconciled",
        store=ctx.store,
        discrepancies=len(report.discrepancies),
        payments=len(payments),
        invoices=len(invoices),
    )
    return report


async def _log(ctx: SyncContext, entries: Sequence[WritebackEntry]) -> None:
    async with ctx.db.transaction() as tx:
        await tx.writebacks.append(entries)


async def create_invoice_from_order(ctx: SyncContext, order_id: int) -> InvoiceCreated:
    """Invoice a B2B online order (`POST /ip/orders/{B2B order id}/invoices`, bigcommerce-api.md
    §5.4). Refused for invoice payments and orders that already have an invoice."""
    try:
        b2b_order = await ctx.client.b2b.order(order_id)
    except NotFound:
        raise ActionRefused(f"order {order_id} has no B2B Edition record") from None
    if b2b_order.is_invoice_order:
        raise ActionRefused(f"order {order_id} is an invoice payment; it is never invoiced")
    if b2b_order.id is None:
        raise ActionRefused(f"B2B Edition gave no B2B order id for order {order_id}")
    existing = [
        invoice
        async for invoice in ctx.client.b2b.invoices(
            {"searchBy": "orderNumber", "q": str(order_id)}
        )
        if (invoice.order_number or "").strip() == str(order_id)
    ]
    if existing:
        raise ActionRefused(f"order {order_id} is already invoiced as {existing[0].invoice_number}")
    created = await ctx.client.b2b.invoice_from_order(b2b_order.id)
    await _log(
        ctx,
        [
            WritebackEntry(
                ctx.store,
                order_id,
                ctx.clock(),
                "action:create_invoice",
                "b2b.invoice",
                None,
                f"{created.invoice_number} (id {created.invoice_id})",
            )
        ],
    )
    log.info("invoices.created", store=ctx.store, order_id=order_id, invoice=created.invoice_id)
    return created


async def set_payment_status(ctx: SyncContext, payment_id: int, status: int) -> Payment:
    """Move an offline payment to processing status `status` (1-4) when B2B Edition lists it
    in the payment's `allowedStatuses`; returns the payment as it was before. Checkout payments
    are refused: BigCommerce's checkout owns their status."""
    payment = await ctx.client.b2b.payment(payment_id)
    if payment.module_name == CHECKOUT_MODULE:
        raise ActionRefused(
            f"payment {payment_id} was made in the checkout; its status follows its order"
        )
    if payment.processing_status == status:
        return payment
    operations = await ctx.client.b2b.operations(payment_id)
    allowed = {int(value) for value in operations.allowed_statuses}
    if status not in allowed:
        raise ActionRefused(
            f"payment {payment_id} cannot move from processing status "
            f"{payment.processing_status} to {status}; allowed: {sorted(allowed)}"
        )
    await ctx.client.b2b.set_processing_status(payment_id, status)
    await _log(
        ctx,
        [
            WritebackEntry(
                ctx.store,
                payment.bc_order_id,
                ctx.clock(),
                "action:payment_status",
                f"b2b.payment.{payment_id}.processing_status",
                str(payment.processing_status),
                str(status),
            )
        ],
    )
    return payment


async def set_order_fields(
    ctx: SyncContext,
    order_id: int,
    *,
    po_number: str | None = None,
    extra_fields: Mapping[str, str] | None = None,
) -> list[WritebackEntry]:
    """Set a B2B order's PO number and/or extra fields; only what differs is written and
    logged. Returns the log entries (empty when nothing differed)."""
    if po_number is None and not extra_fields:
        raise ActionRefused("give a PO number or at least one extra field")
    try:
        current = await ctx.client.b2b.order(order_id)
    except NotFound:
        raise ActionRefused(f"order {order_id} has no B2B Edition record") from None
    now = ctx.clock()
    existing = {f.field_name: f.field_value for f in current.extra_fields}
    entries: list[WritebackEntry] = []
    new_po = None
    if po_number is not None and po_number != current.po_number:
        new_po = po_number
        entries.append(
            WritebackEntry(
                ctx.store,
                order_id,
                now,
                "action:order_fields",
                "b2b.po_number",
                current.po_number,
                po_number,
            )
        )
    changed = {k: v for k, v in (extra_fields or {}).items() if existing.get(k) != v}
    for name, value in changed.items():
        entries.append(
            WritebackEntry(
                ctx.store,
                order_id,
                now,
                "action:order_fields",
                f"b2b.extra_fields.{name}",
                existing.get(name),
                value,
            )
        )
    if not entries:
        return []
    await ctx.client.b2b.update_order(
        order_id,
        po_number=new_po,
        extra_fields=[{"fieldName": k, "fieldValue": v} for k, v in changed.items()] or None,
    )
    await _log(ctx, entries)
    return entries
