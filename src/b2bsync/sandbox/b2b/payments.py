"""Invoice Portal payments and the receipts they leave, the state behind `routes/b2b_payments.py`.

The rules the sandbox keeps (bigcommerce-api.md §5.4, §6):
- a payment reduces the open balances of its lines while it is *applied*: payments are applied
  when they reach processing status 3 (Completed) and reverted when refunded (4); each
  application and each reversal leaves a receipt ("Paid" / "Refund") with one line per invoice;
- payments in processing status 1 or 2 count as pending on their invoices (`isPendingPayment`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from b2bsync.sandbox.b2b.invoices import refresh_invoice_status, to_money
from b2bsync.sandbox.config import SandboxConfig
from b2bsync.sandbox.errors import B2BError
from b2bsync.sandbox.models import (
    Address,
    Company,
    Invoice,
    Order,
    Payment,
    PaymentLine,
    Receipt,
    ReceiptLine,
)
from b2bsync.sandbox.orders import LineSpec, new_cart_id, place_order
from b2bsync.sandbox.world import StoreState

MODULE_BC_SALES_ORDER = "payments_bigcommerce_sales_order"
MODULE_OFFLINE = "payments_offline"
DEFAULT_OFFLINE_PAYER = "Store offline payment"
INVOICE_PAYMENT_PRODUCT_NAME = "Invoice Payment"

# Processing statuses (payment.yaml): 0 Incomplete, 1 Awaiting Processing, 2 Processing,
# 3 Completed, 4 Refunded.
COMPLETED = 3
REFUNDED = 4
PENDING_STATUSES = frozenset({1, 2})

ALLOWED_STATUSES: Mapping[int, tuple[int, ...]] = {
    0: (1, 2, 3),
    1: (1, 2, 3),
    2: (1, 2, 3),
    3: (1, 2, 3, 4),
    4: (4,),
}
"""Processing statuses a payment may be set to from each status (the current one included, as
in the spec's examples: a completed payment lists `[1, 2, 3, 4]`). Only a completed payment can
be refunded, and a refund is final."""

# Payment operations (payment.yaml `operationCode`).
OP_APPLY = 0
OP_REVERT = 1
OP_PULL_FROM_ORDER = 2

ORDER_GONE_STATUSES = frozenset({4, 5})
"""V2 statuses (Refunded, Cancelled) after which a checkout payment no longer stands."""
COUNTRY_NAMES: Mapping[str, str] = {"US": "United States", "CA": "Canada", "GB": "United Kingdom"}
"""Company addresses keep ISO codes; V2 addresses spell the country out."""


def _count_pending(state: StoreState, payment: Payment, delta: int) -> None:
    """Count a pending payment on (delta 1) or off (delta -1) its invoices' pending tallies."""
    if payment.processing_status not in PENDING_STATUSES:
        return
    for line in payment.line_items:
        if invoice := state.invoices.get(line.invoice_id):
            invoice.pending_payment_count = max(0, invoice.pending_payment_count + delta)


def _check_allocations(
    state: StoreState,
    company_id: int,
    allocations: Sequence[tuple[int, Decimal]],
    credit: Mapping[int, Decimal] | None = None,
) -> tuple[str, list[tuple[Invoice, Decimal]]]:
    """The currency and invoices of a payment's lines; 422 when a line cannot be paid.

    `credit` is what a payment being changed already took off each invoice: it is available to
    the new lines again.
    """
    if not allocations:
        raise B2BError(422, "lineItems is required")
    checked: list[tuple[Invoice, Decimal]] = []
    seen: set[int] = set()
    for invoice_id, amount in allocations:
        invoice = state.invoices.get(invoice_id)
        if invoice is None:
            raise B2BError(422, f"Invoice {invoice_id} does not exist")
        if invoice.customer_id != company_id:
            raise B2BError(422, f"Invoice {invoice_id} does not belong to company {company_id}")
        if invoice_id in seen:
            raise B2BError(422, f"Invoice {invoice_id} appears twice in lineItems")
        if amount <= 0:
            raise B2BError(422, "The payment amount must be positive")
        if amount > invoice.open_balance.value + (credit or {}).get(invoice_id, Decimal("0")):
            raise B2BError(422, f"The amount exceeds the open balance of invoice {invoice_id}")
        seen.add(invoice_id)
        checked.append((invoice, amount))
    currencies = {invoice.open_balance.code for invoice, _ in checked}
    if len(currencies) != 1:
        raise B2BError(422, "Invalid currency code")
    return currencies.pop(), checked


def _receipt_type(payment: Payment) -> str:
    if payment.module_name == MODULE_OFFLINE:
        return "Offline"
    card = next(
        (t.get("card") for t in payment.module_data.get("transactions", []) if t.get("card")), None
    )
    if card:
        return f"{str(card['type']).capitalize()} ending in {card['last4']}"
    return "Online"


def _reference_number(payment: Payment) -> str:
    if payment.module_name == MODULE_BC_SALES_ORDER:
        return str(payment.module_data.get("orderId", payment.id))
    return payment.external_id or str(payment.id)


def _write_receipt(state: StoreState, payment: Payment, kind: str, now: datetime) -> Receipt:
    receipt_id = state.next_id("receipt", 1)
    lines = [
        ReceiptLine(
            id=state.next_id("receipt_line", 1),
            receipt_id=receipt_id,
            invoice_id=line.invoice_id,
            invoice_number=line.invoice_number,
            amount=line.amount,
            created_at=now,
            updated_at=now,
        )
        for line in payment.line_items
    ]
    receipt = Receipt(
        id=receipt_id,
        payment_id=payment.id,
        customer_id=payment.customer_id,
        created_at=now,
        updated_at=now,
        total=payment.total,
        transaction_type=kind,
        payment_type=_receipt_type(payment),
        reference_number=_reference_number(payment),
        payer_name=payment.payer_name,
        lines=lines,
        payer_customer_id=payment.payer_customer_id,
        memo=payment.memo,
        external_id=payment.external_id,
        external_customer_id=payment.external_customer_id,
    )
    state.receipts[receipt.id] = receipt
    return receipt


def _apply(state: StoreState, payment: Payment, now: datetime) -> None:
    """Reduce the open balances of the payment's invoices and record the receipt."""
    for line in payment.line_items:
        if invoice := state.invoices.get(line.invoice_id):
            invoice.open_balance = to_money(
                invoice.open_balance.value - line.amount.value, invoice.open_balance.code
            )
            refresh_invoice_status(invoice)
            invoice.updated_at = max(now, invoice.updated_at)
    payment.applied_status = 1
    _write_receipt(state, payment, "Paid", now)


def _revert(state: StoreState, payment: Payment, now: datetime) -> None:
    """Give the payment's amounts back to its invoices and record the refund receipt."""
    for line in payment.line_items:
        if invoice := state.invoices.get(line.invoice_id):
            invoice.open_balance = to_money(
                min(invoice.open_balance.value + line.amount.value, invoice.original_balance.value),
                invoice.open_balance.code,
            )
            refresh_invoice_status(invoice)
            invoice.updated_at = max(now, invoice.updated_at)
    payment.applied_status = 0
    _write_receipt(state, payment, "Refund", now)


def allowed_statuses(payment: Payment) -> list[int]:
    """The processing statuses `PUT .../processing-status` accepts for this payment now."""
    return list(ALLOWED_STATUSES.get(payment.processing_status, ()))


def allowed_operations(payment: Payment) -> list[int]:
    """The operation codes `POST .../operations` accepts for this payment now."""
    if payment.processing_status == REFUNDED:
        return []
    operations = [OP_REVERT] if payment.applied_status else [OP_APPLY]
    if payment.module_name == MODULE_BC_SALES_ORDER:
        operations.append(OP_PULL_FROM_ORDER)
    return operations


def _new_payment(
    state: StoreState,
    *,
    company_id: int,
    currency: str,
    checked: Sequence[tuple[Invoice, Decimal]],
    module_name: str,
    module_data: dict[str, Any],
    processing_status: int,
    now: datetime,
    **fields: Any,
) -> Payment:
    payment_id = state.next_id("payment", 1)
    total = sum((amount for _, amount in checked), Decimal("0"))
    payment = Payment(
        id=payment_id,
        customer_id=company_id,
        created_at=now,
        updated_at=now,
        module_name=module_name,
        module_data=module_data,
        processing_status=processing_status,
        total=to_money(total, currency),
        line_items=[
            PaymentLine(invoice.id, invoice.invoice_number, to_money(amount, currency))
            for invoice, amount in checked
        ],
        applied_status=0,
        **fields,
    )
    state.payments[payment.id] = payment
    if processing_status == COMPLETED:
        _apply(state, payment, now)
    _count_pending(state, payment, 1)
    return payment


def _billing_address(state: StoreState, customer_id: int, company: Company) -> Address:
    customer = state.customers.get(customer_id)
    return Address(
        first_name=customer.first_name if customer else "",
        last_name=customer.last_name if customer else "",
        company=company.name,
        street_1=company.address_line1,
        street_2="",
        city=company.city,
        state=company.state,
        zip=company.zip_code,
        country=COUNTRY_NAMES.get(company.country, company.country),
        country_iso2=company.country if len(company.country) == 2 else "",
        phone=customer.phone if customer and customer.phone else company.phone,
        email=customer.email if customer else company.email,
    )


def checkout_invoice_payment(
    state: StoreState,
    *,
    company_id: int,
    customer_id: int,
    allocations: Sequence[tuple[int, Decimal]],
    now: datetime,
    config: SandboxConfig,
) -> Order:
    """A buyer paying invoices through the Buyer Portal and the BigCommerce checkout.

    Creates the V2 order (one digital "Invoice Payment" line at the total, status 11), the
    `payments_bigcommerce_sales_order` payment pointing at it (completed, so applied: open
    balances drop and a receipt is written), and schedules the B2B order record marked as an
    invoice order for the first invoice. Several invoices may be paid at once.
    """
    company = state.companies.get(company_id)
    if company is None:
        raise B2BError(404, "Company does not exist")
    customer = state.customers.get(customer_id)
    if customer is None or customer.company_id != company_id:
        raise B2BError(422, f"Customer {customer_id} does not buy for company {company_id}")
    currency, checked = _check_allocations(state, company_id, allocations)
    total = sum((amount for _, amount in checked), Decimal("0"))
    product = state.catalog.get(state.invoice_payment_product_id)
    cart_id = new_cart_id(state)
    transaction_id = f"{state.rng.getrandbits(40):012x}"
    invoice_ids = [invoice.id for invoice, _ in checked]
    order = place_order(
        state,
        customer_id=customer_id,
        billing_address=_billing_address(state, customer_id, company),
        lines=[
            LineSpec(
                name=INVOICE_PAYMENT_PRODUCT_NAME,
                quantity=1,
                price_ex_tax=total,
                price_inc_tax=total,
                product_id=product.id if product else 0,
                variant_id=product.variant_id if product else 0,
                sku=product.sku if product else "",
                type="digital",
            )
        ],
        now=now,
        status_id=11,
        kind="invoice payment",
        invoice_ids=invoice_ids,
        payment_method="Credit Card",
        cart_id=cart_id,
        payment_provider_id=transaction_id,
        config=config,
    )
    _new_payment(
        state,
        company_id=company_id,
        currency=currency,
        checked=checked,
        module_name=MODULE_BC_SALES_ORDER,
        module_data={
            "orderId": order.id,
            "cartId": cart_id,
            "transactions": [
                {
                    "type": "CreditCardTransaction",
                    "memo": f"Paid with BigCommerce order #{order.id}",
                    "gateway": "braintree",
                    "transactionId": transaction_id,
                    "authCode": f"{state.rng.randrange(1_000_000):06d}",
                    "event": "capture",
                    "card": {
                        "type": "visa",
                        "last4": "1111",
                        "expiryYear": now.year + 3,
                        "expiryMonth": 12,
                    },
                    "rawTransaction": None,
                }
            ],
        },
        processing_status=COMPLETED,
        now=now,
        payer_name=f"{customer.first_name} {customer.last_name}".strip(),
        payer_customer_id=str(company_id),
        memo=f"Invoice payment, order #{order.id}",
        channel_id=order.channel_id,
    )
    return order


@dataclass(slots=True)
class OfflinePaymentInput:
    """A parsed `POST /ip/payments/offline` (or `PUT .../offline/{id}`) body."""

    customer_id: int
    currency: str
    memo: str
    line_items: list[tuple[int, Decimal]]
    external_id: str | None = None
    external_customer_id: str | None = None
    payer_name: str = DEFAULT_OFFLINE_PAYER
    payer_customer_id: str | None = None
    processing_status: int | None = None
    channel_id: int = 1
    funding_status: int | None = None
    given: frozenset[str] = field(default_factory=frozenset)


def _offline_module_data(memo: str) -> dict[str, Any]:
    return {"transactions": [{"type": "OfflineTransaction", "memo": memo, "rawTransaction": None}]}


def create_offline_payment(state: StoreState, data: OfflinePaymentInput, now: datetime) -> Payment:
    """`POST /ip/payments/offline`: record a payment made outside the store (check, wire...)."""
    if data.customer_id not in state.companies:
        raise B2BError(422, f"Company {data.customer_id} does not exist")
    status = COMPLETED if data.processing_status is None else data.processing_status
    if status not in (1, 2, 3, 4):
        raise B2BError(422, "processingStatus must be 1, 2, 3 or 4")
    currency, checked = _check_allocations(state, data.customer_id, data.line_items)
    if data.currency.upper() != currency:
        raise B2BError(422, "Invalid currency code")
    # A payment recorded as refunded was completed first: it leaves both receipts.
    initial = COMPLETED if status == REFUNDED else status
    payment = _new_payment(
        state,
        company_id=data.customer_id,
        currency=currency,
        checked=checked,
        module_name=MODULE_OFFLINE,
        module_data=_offline_module_data(data.memo),
        processing_status=initial,
        now=now,
        payer_name=data.payer_name or DEFAULT_OFFLINE_PAYER,
        payer_customer_id=data.payer_customer_id or str(data.customer_id),
        memo=data.memo,
        external_id=data.external_id,
        external_customer_id=data.external_customer_id,
        channel_id=data.channel_id,
        funding_status=2 if data.funding_status is None else data.funding_status,
    )
    if status == REFUNDED:
        set_processing_status(state, payment, REFUNDED, now)
    return payment


def update_offline_payment(
    state: StoreState, payment: Payment, data: OfflinePaymentInput, now: datetime
) -> Payment:
    """`PUT /ip/payments/offline/{id}`: replace an offline payment's lines and details.

    An applied payment is taken off its invoices first (leaving a "Refund" receipt) and put back
    with the new lines; a status change must be one the payment allows.
    """
    if payment.module_name != MODULE_OFFLINE:
        raise B2BError(400, "Only offline payments can be updated.")
    if data.customer_id not in state.companies:
        raise B2BError(422, f"Company {data.customer_id} does not exist")
    status = payment.processing_status if data.processing_status is None else data.processing_status
    if status not in allowed_statuses(payment):
        raise B2BError(400, "The payment processing status is not allowed.")
    was_applied = bool(payment.applied_status)
    credit = {line.invoice_id: line.amount.value for line in payment.line_items if was_applied}
    currency, checked = _check_allocations(state, data.customer_id, data.line_items, credit)
    if data.currency.upper() != currency:
        raise B2BError(422, "Invalid currency code")
    _count_pending(state, payment, -1)
    if was_applied:
        _revert(state, payment, now)
    payment.customer_id = data.customer_id
    payment.total = to_money(sum((a for _, a in checked), Decimal("0")), currency)
    payment.line_items = [
        PaymentLine(invoice.id, invoice.invoice_number, to_money(amount, currency))
        for invoice, amount in checked
    ]
    payment.memo = data.memo
    payment.module_data = _offline_module_data(data.memo)
    if "externalId" in data.given:
        payment.external_id = data.external_id
    if "externalCustomerId" in data.given:
        payment.external_customer_id = data.external_customer_id
    if "payerName" in data.given:
        payment.payer_name = data.payer_name or DEFAULT_OFFLINE_PAYER
    if "payerCustomerId" in data.given:
        payment.payer_customer_id = data.payer_customer_id or str(data.customer_id)
    if data.funding_status is not None:
        payment.funding_status = data.funding_status
    payment.processing_status = status
    if payment.processing_status == REFUNDED:
        payment.applied_status = 0
    elif was_applied or payment.processing_status == COMPLETED:
        _apply(state, payment, now)
    payment.updated_at = max(now, payment.updated_at)
    _count_pending(state, payment, 1)
    return payment


def get_payment(state: StoreState, payment_id: int) -> Payment:
    """The payment, or 404 "Payment does not exist"."""
    payment = state.payments.get(payment_id)
    if payment is None:
        raise B2BError(404, "Payment does not exist")
    return payment


def set_processing_status(state: StoreState, payment: Payment, status: int, now: datetime) -> None:
    """`PUT /ip/payments/{id}/processing-status`, checked against `allowed_statuses`.

    Completing an unapplied payment applies it; refunding an applied one reverts it.
    """
    if status not in allowed_statuses(payment):
        raise B2BError(400, "The payment processing status is not allowed.")
    if status == payment.processing_status:
        return
    _count_pending(state, payment, -1)
    payment.processing_status = status
    _count_pending(state, payment, 1)
    if status == COMPLETED and not payment.applied_status:
        _apply(state, payment, now)
    elif status == REFUNDED and payment.applied_status:
        _revert(state, payment, now)
    payment.updated_at = max(now, payment.updated_at)


def run_operation(state: StoreState, payment: Payment, operation: int, now: datetime) -> None:
    """`POST /ip/payments/{id}/operations`: apply to or revert from invoice balances, or pull
    updates from the payment's BigCommerce order (a refunded or cancelled order refunds the
    payment)."""
    if operation not in allowed_operations(payment):
        raise B2BError(400, "The payment operation is not allowed.")
    if operation == OP_APPLY:
        _apply(state, payment, now)
    elif operation == OP_REVERT:
        _revert(state, payment, now)
    else:
        source = state.orders.get(int(payment.module_data.get("orderId", 0)))
        if (
            source is not None
            and source.status_id in ORDER_GONE_STATUSES
            and payment.processing_status == COMPLETED
        ):
            set_processing_status(state, payment, REFUNDED, now)
    payment.updated_at = max(now, payment.updated_at)


def delete_payment(state: StoreState, payment_id: int, now: datetime) -> None:
    """`DELETE /ip/payments/{id}`: an applied payment gives its amounts back first; its receipts
    go with it."""
    payment = get_payment(state, payment_id)
    if payment.applied_status:
        _revert(state, payment, now)
    for receipt_id in [r.id for r in state.receipts.values() if r.payment_id == payment_id]:
        del state.receipts[receipt_id]
    del state.payments[payment_id]
    _count_pending(state, payment, -1)


def payment_transactions(payment: Payment) -> list[dict[str, Any]]:
    """`GET /ip/payments/{id}/transactions`: the gateway's view of the payment."""
    rendered = []
    for transaction in payment.module_data.get("transactions", []):
        raw = {
            "status": "captured" if payment.processing_status == COMPLETED else "pending",
            "amount": str(payment.total.value),
            "currency": payment.total.code,
        }
        item = {k: v for k, v in transaction.items() if k not in ("memo", "rawTransaction")}
        item["rawTransaction"] = json.dumps(raw)
        rendered.append(item)
    return rendered


def get_receipt(state: StoreState, receipt_id: int) -> Receipt:
    """The receipt, or 404 "Receipt does not exist"."""
    receipt = state.receipts.get(receipt_id)
    if receipt is None:
        raise B2BError(404, "Receipt does not exist")
    return receipt


def delete_receipt(state: StoreState, receipt_id: int) -> None:
    """`DELETE /ip/receipts/{id}` (balances stay as they are)."""
    get_receipt(state, receipt_id)
    del state.receipts[receipt_id]


def delete_receipt_line(state: StoreState, receipt_id: int, line_id: int) -> None:
    """`DELETE /ip/receipts/{id}/lines/{lineId}`."""
    receipt = get_receipt(state, receipt_id)
    kept = [line for line in receipt.lines if line.id != line_id]
    if len(kept) == len(receipt.lines):
        raise B2BError(404, "Receipt line does not exist")
    receipt.lines = kept
