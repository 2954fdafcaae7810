"""Break the Invoice Portal on purpose, in known ways, so the reconciliation report
(`b2bsync invoices reconcile`) can be tested against ground truth; `routes/discrepancies.py`
serves it as `POST /__sandbox/discrepancies`.

Each injection is one of the faults real stores show: a checkout payment lost after its order
was placed, a checkout payment whose order never came to exist, and an invoice balance edited
by hand. The answer names what was broken. Not part of any BigCommerce API.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from b2bsync.sandbox.b2b.payments import MODULE_BC_SALES_ORDER, delete_payment
from b2bsync.sandbox.models import Money, Payment, PaymentLine
from b2bsync.sandbox.world import StoreState

__all__ = ["BALANCE_SHIFT", "inject_discrepancies"]

AWAITING_PROCESSING = 1
BALANCE_SHIFT = Decimal("17.00")
"""How far the injected balance mismatch moves an invoice's open balance."""


def _checkout_payments(state: StoreState) -> dict[int, Payment]:
    """Checkout payments by the order they name."""
    found: dict[int, Payment] = {}
    for payment in state.payments.values():
        if payment.module_name == MODULE_BC_SALES_ORDER:
            order_id = payment.module_data.get("orderId")
            if isinstance(order_id, int) or (isinstance(order_id, str) and order_id.isdigit()):
                found[int(order_id)] = payment
    return found


def _lose_a_payment(state: StoreState, now: datetime) -> list[int]:
    """Delete the checkout payment of the lowest live invoice-payment order (its amounts go
    back to the invoices, as B2B Edition does), leaving the order without a payment."""
    paid = _checkout_payments(state)
    for order in sorted(state.orders.values(), key=lambda o: o.id):
        if (
            order.truth_kind == "invoice payment"
            and not order.is_deleted
            and order.status_id != 0
            and order.id in paid
        ):
            delete_payment(state, paid[order.id].id, now)
            return [order.id]
    return []


def _orphan_payment(state: StoreState, now: datetime) -> list[int]:
    """Add an unapplied checkout payment for an order id that does not exist."""
    invoice = min(state.invoices.values(), key=lambda i: i.id, default=None)
    if invoice is None:
        return []
    missing_order = max(state.orders, default=0) + 10_000
    amount = Money(code=invoice.original_balance.code, value=Decimal("12.5000"))
    payment = Payment(
        id=state.next_id("payment", 1),
        customer_id=invoice.customer_id,
        created_at=now,
        updated_at=now,
        module_name=MODULE_BC_SALES_ORDER,
        module_data={"orderId": missing_order, "cartId": "", "transactions": []},
        processing_status=AWAITING_PROCESSING,
        total=amount,
        line_items=[PaymentLine(invoice.id, invoice.invoice_number, amount)],
        applied_status=0,
    )
    state.payments[payment.id] = payment
    invoice.pending_payment_count += 1
    return [payment.id]


def _shift_a_balance(state: StoreState, now: datetime) -> list[int]:
    """Move the open balance of the lowest invoice with room by `BALANCE_SHIFT`."""
    for invoice in sorted(state.invoices.values(), key=lambda i: i.id):
        balance = invoice.open_balance.value
        if balance + BALANCE_SHIFT <= invoice.original_balance.value:
            shifted = balance + BALANCE_SHIFT
        elif balance >= BALANCE_SHIFT:
            shifted = balance - BALANCE_SHIFT
        else:
            continue
        invoice.open_balance = Money(code=invoice.open_balance.code, value=shifted)
        invoice.updated_at = max(now, invoice.updated_at)
        return [invoice.id]
    return []


def inject_discrepancies(state: StoreState, now: datetime) -> dict[str, list[int]]:
    """Inject one discrepancy of each kind the reconciliation report looks for; returns the
    ids involved: orders without payment, payments without order, invoices with a wrong
    balance."""
    return {
        "order_without_payment": _lose_a_payment(state, now),
        "payment_without_order": _orphan_payment(state, now),
        "balance_mismatch": _shift_a_balance(state, now),
    }
