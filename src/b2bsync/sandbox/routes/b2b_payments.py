"""B2B Edition Invoice Portal payments, receipts and configuration (`/ip/payments`,
`/ip/receipts`, `/ip/receipt-lines`, `/ip/config`), after invoice-management.yaml and
config.yaml."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from b2bsync.sandbox import render_b2b
from b2bsync.sandbox.b2b import payments
from b2bsync.sandbox.b2b.payments import OfflinePaymentInput
from b2bsync.sandbox.errors import B2BError
from b2bsync.sandbox.models import Payment, Receipt, ReceiptLine
from b2bsync.sandbox.responses import b2b_response
from b2bsync.sandbox.routes.b2b_common import (
    Query,
    body,
    contains,
    decimal_of,
    page_of,
    path_int,
    sort_in_place,
)
from b2bsync.sandbox.routes.endpoint import Context, endpoint
from b2bsync.sandbox.world import StoreState

PAYMENT_NOT_FOUND = "Payment does not exist"
RECEIPT_NOT_FOUND = "Receipt does not exist"
LINE_NOT_FOUND = "Receipt line does not exist"

_PAYMENT_SORTS: Mapping[str, Callable[[Payment], Any]] = {
    "moduleName": lambda p: p.module_name,
    "processingStatus": lambda p: p.processing_status,
    "appliedStatus": lambda p: p.applied_status,
    "createdAt": lambda p: p.created_at,
    "customerId": lambda p: p.customer_id,
    "externalCustomerId": lambda p: p.external_customer_id or "",
    "fundingStatus": lambda p: p.funding_status,
    "updatedAt": lambda p: p.updated_at,
    "totalAmount": lambda p: p.total.value,
}

_RECEIPT_SORTS: Mapping[str, Callable[[Receipt], Any]] = {
    "customerId": lambda r: r.customer_id,
    "externalCustomerId": lambda r: r.external_customer_id or "",
    "paymentId": lambda r: r.payment_id,
    "total": lambda r: r.total.value,
    "transactionType": lambda r: r.transaction_type,
    "referenceNumber": lambda r: r.reference_number,
    "createdAt": lambda r: r.created_at,
    "updatedAt": lambda r: r.updated_at,
}

_RECEIPT_SEARCH: Mapping[str, Callable[[Receipt], object]] = {
    "payerName": lambda r: r.payer_name,
    "referenceNumber": lambda r: r.reference_number,
    "customerId": lambda r: r.customer_id,
    "externalId": lambda r: r.external_id,
    "externalCustomerId": lambda r: r.external_customer_id,
    "payerCustomerId": lambda r: r.payer_customer_id,
}

Line = tuple[Receipt, ReceiptLine]

_LINE_SORTS: Mapping[str, Callable[[Line], Any]] = {
    "customerId": lambda rl: rl[0].customer_id,
    "externalCustomerId": lambda rl: rl[0].external_customer_id or "",
    "receiptId": lambda rl: rl[0].id,
    "invoiceId": lambda rl: rl[1].invoice_id,
    "amount": lambda rl: rl[1].amount.value,
    "createdAt": lambda rl: rl[1].created_at,
    "updatedAt": lambda rl: rl[1].updated_at,
}


def _company_name(state: StoreState, company_id: int) -> str:
    company = state.companies.get(company_id)
    return company.name if company else ""


def _payment_matches(payment: Payment, search_by: str | None, text: str) -> bool:
    exact = {"id": str(payment.id), "customerId": str(payment.customer_id)}
    fuzzy = {"externalId": payment.external_id, "externalCustomerId": payment.external_customer_id}
    if search_by in exact:
        return exact[search_by] == text
    if search_by is not None:
        return contains(fuzzy[search_by], text)
    return text in exact.values() or any(contains(value, text) for value in fuzzy.values())


@endpoint
async def list_payments(request: Request, ctx: Context) -> Response:
    """`GET /ip/payments` (no date or order filters exist; see bigcommerce-api.md §5.4)."""
    state = ctx.state
    query = Query(request)
    offset, limit = query.page()
    order_by = query.choice("orderBy", ("DESC", "ASC"), "DESC")
    sort_by = query.choice("sortBy", tuple(_PAYMENT_SORTS), "createdAt") or "createdAt"
    search_by = query.choice("searchBy", ("id", "customerId", "externalId", "externalCustomerId"))
    text = query.text("q")
    customer_name = query.text("customerName")
    invoice_id = query.integer("invoiceId")
    status = query.integer("processingStatus")
    if status is not None and status not in range(5):
        raise B2BError(422, "processingStatus must be 0, 1, 2, 3 or 4")
    channels = set(query.integers("channelIds"))
    found = [
        payment
        for payment in state.payments.values()
        if (text is None or _payment_matches(payment, search_by, text))
        and (
            customer_name is None
            or contains(_company_name(state, payment.customer_id), customer_name)
        )
        and (invoice_id is None or any(li.invoice_id == invoice_id for li in payment.line_items))
        and (status is None or payment.processing_status == status)
        and (not channels or payment.channel_id in channels)
    ]
    found.sort(key=lambda payment: payment.id)
    sort_in_place(found, _PAYMENT_SORTS[sort_by], order_by)
    return page_of(found, offset, limit, lambda payment: render_b2b.payment(state, payment))


def _payment(request: Request, ctx: Context) -> Payment:
    return payments.get_payment(ctx.state, path_int(request, "paymentId", PAYMENT_NOT_FOUND))


@endpoint
async def get_payment(request: Request, ctx: Context) -> Response:
    """`GET /ip/payments/{paymentId}`."""
    return b2b_response(render_b2b.payment(ctx.state, _payment(request, ctx)))


@endpoint
async def delete_payment(request: Request, ctx: Context) -> Response:
    """`DELETE /ip/payments/{paymentId}`."""
    payment_id = path_int(request, "paymentId", PAYMENT_NOT_FOUND)
    payments.delete_payment(ctx.state, payment_id, ctx.now)
    return b2b_response({"id": payment_id})


def _status_code(payload: Mapping[str, Any], name: str, allowed: range) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise B2BError(422, f"{name} must be one of {list(allowed)}")
    return int(value)


@endpoint
async def set_processing_status(request: Request, ctx: Context) -> Response:
    """`PUT /ip/payments/{paymentId}/processing-status`, checked against `allowedStatuses`."""
    payment = _payment(request, ctx)
    status = _status_code(await body(request), "processingStatus", range(5))
    if status is None:
        raise B2BError(422, "processingStatus is required")
    payments.set_processing_status(ctx.state, payment, status, ctx.now)
    return b2b_response({"id": payment.id})


@endpoint
async def get_operations(request: Request, ctx: Context) -> Response:
    """`GET /ip/payments/{paymentId}/operations`."""
    payment = _payment(request, ctx)
    return b2b_response(
        {
            "allowedOperations": payments.allowed_operations(payment),
            "allowedStatuses": payments.allowed_statuses(payment),
        }
    )


@endpoint
async def run_operation(request: Request, ctx: Context) -> Response:
    """`POST /ip/payments/{paymentId}/operations` with `{operationCode}`."""
    payment = _payment(request, ctx)
    operation = _status_code(await body(request), "operationCode", range(4))
    if operation is None:
        raise B2BError(422, "operationCode is required")
    payments.run_operation(ctx.state, payment, operation, ctx.now)
    return b2b_response({"id": payment.id})


@endpoint
async def transactions(request: Request, ctx: Context) -> Response:
    """`GET /ip/payments/{paymentId}/transactions`."""
    return b2b_response(payments.payment_transactions(_payment(request, ctx)))


def _optional_text(payload: Mapping[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise B2BError(422, f"{name} must be a string")
    return str(value)


def _offline_input(payload: Mapping[str, Any], *, update: bool) -> OfflinePaymentInput:
    missing = [
        name for name in ("lineItems", "currency", "details", "customerId") if not payload.get(name)
    ]
    if missing:
        raise B2BError(422, f"{', '.join(missing)}: This field is required.")
    raw_lines = payload["lineItems"]
    if not isinstance(raw_lines, list) or not all(isinstance(li, dict) for li in raw_lines):
        raise B2BError(422, "lineItems must be an array of {invoiceId, amount}")
    lines: list[tuple[int, Decimal]] = []
    for item in raw_lines:
        invoice_id = item.get("invoiceId")
        if isinstance(invoice_id, bool) or not isinstance(invoice_id, int):
            raise B2BError(422, "lineItems[].invoiceId must be an integer")
        if item.get("amount") is None:
            raise B2BError(422, "lineItems[].amount is required")
        lines.append((invoice_id, decimal_of(item["amount"], "lineItems[].amount")))
    currency, details = payload["currency"], payload["details"]
    if not isinstance(currency, str) or len(currency) != 3:
        raise B2BError(422, "Invalid currency code")
    if not isinstance(details, dict) or not isinstance(details.get("memo"), str):
        raise B2BError(422, "details.memo is required")
    if not details["memo"]:
        raise B2BError(422, "details.memo must not be empty")
    company = str(_optional_text(payload, "customerId"))
    if not company.isdigit():
        raise B2BError(422, "customerId must be a company id")
    channel = payload.get("channelId", 1)
    if isinstance(channel, bool) or not isinstance(channel, int):
        raise B2BError(422, "channelId must be an integer")
    return OfflinePaymentInput(
        customer_id=int(company),
        currency=currency.upper(),
        memo=details["memo"],
        line_items=lines,
        external_id=_optional_text(payload, "externalId"),
        external_customer_id=_optional_text(payload, "externalCustomerId"),
        payer_name=_optional_text(payload, "payerName") or payments.DEFAULT_OFFLINE_PAYER,
        payer_customer_id=_optional_text(payload, "payerCustomerId"),
        processing_status=_status_code(payload, "processingStatus", range(1, 5)),
        channel_id=channel,
        funding_status=_status_code(payload, "fundingStatus", range(4)) if update else None,
        given=frozenset(payload),
    )


@endpoint
async def create_offline_payment(request: Request, ctx: Context) -> Response:
    """`POST /ip/payments/offline`."""
    data = _offline_input(await body(request), update=False)
    payment = payments.create_offline_payment(ctx.state, data, ctx.now)
    return b2b_response({"paymentId": payment.id})


@endpoint
async def update_offline_payment(request: Request, ctx: Context) -> Response:
    """`PUT /ip/payments/offline/{paymentId}`."""
    payment = _payment(request, ctx)
    data = _offline_input(await body(request), update=True)
    payments.update_offline_payment(ctx.state, payment, data, ctx.now)
    return b2b_response({"paymentId": payment.id})


def _payment_status(state: StoreState, receipt: Receipt) -> int:
    payment = state.payments.get(receipt.payment_id)
    return payment.processing_status if payment else payments.COMPLETED


def _receipt_query(
    request: Request, sorts: Mapping[str, object], searches: tuple[str, ...]
) -> tuple[int, int, str, str, str | None, str | None, set[int]]:
    query = Query(request)
    offset, limit = query.page()
    order_by = query.choice("orderBy", ("DESC", "ASC"), "DESC") or "DESC"
    sort_by = query.choice("sortBy", tuple(sorts), "createdAt") or "createdAt"
    search_by = query.choice("searchBy", searches)
    statuses = set(query.integers("paymentStatus"))
    if not statuses <= set(range(5)):
        raise B2BError(422, "paymentStatus must be among 0, 1, 2, 3, 4")
    return offset, limit, order_by, sort_by, search_by, query.text("q"), statuses


def _receipt_matches(receipt: Receipt, search_by: str | None, text: str) -> bool:
    if search_by is not None:
        return contains(_RECEIPT_SEARCH[search_by](receipt), text)
    return any(contains(get(receipt), text) for get in _RECEIPT_SEARCH.values())


@endpoint
async def list_receipts(request: Request, ctx: Context) -> Response:
    """`GET /ip/receipts`."""
    state = ctx.state
    offset, limit, order_by, sort_by, search_by, text, statuses = _receipt_query(
        request,
        _RECEIPT_SORTS,
        ("payerName", "referenceNumber", "customerId", "externalId", "externalCustomerId"),
    )
    receipts = [
        receipt
        for receipt in state.receipts.values()
        if (text is None or _receipt_matches(receipt, search_by, text))
        and (not statuses or _payment_status(state, receipt) in statuses)
    ]
    receipts.sort(key=lambda receipt: receipt.id)
    sort_in_place(receipts, _RECEIPT_SORTS[sort_by], order_by)
    return page_of(receipts, offset, limit, lambda receipt: render_b2b.receipt(state, receipt))


def _receipt(request: Request, ctx: Context) -> Receipt:
    return payments.get_receipt(ctx.state, path_int(request, "receiptId", RECEIPT_NOT_FOUND))


@endpoint
async def get_receipt(request: Request, ctx: Context) -> Response:
    """`GET /ip/receipts/{receiptId}`."""
    return b2b_response(render_b2b.receipt(ctx.state, _receipt(request, ctx)))


@endpoint
async def delete_receipt(request: Request, ctx: Context) -> Response:
    """`DELETE /ip/receipts/{receiptId}`."""
    receipt_id = path_int(request, "receiptId", RECEIPT_NOT_FOUND)
    payments.delete_receipt(ctx.state, receipt_id)
    return b2b_response({"id": receipt_id})


async def _lines(request: Request, ctx: Context, receipts: list[Receipt]) -> Response:
    state = ctx.state
    offset, limit, order_by, sort_by, search_by, text, statuses = _receipt_query(
        request,
        _LINE_SORTS,
        (
            "customerId",
            "externalId",
            "externalCustomerId",
            "payerName",
            "payerCustomerId",
            "referenceNumber",
            "invoiceId",
        ),
    )

    def matches(receipt: Receipt, line: ReceiptLine) -> bool:
        if text is None:
            return True
        if search_by == "invoiceId":
            return str(line.invoice_id) == text
        return _receipt_matches(receipt, search_by, text)

    lines = [
        (receipt, line)
        for receipt in receipts
        for line in receipt.lines
        if matches(receipt, line) and (not statuses or _payment_status(state, receipt) in statuses)
    ]
    lines.sort(key=lambda pair: pair[1].id)
    sort_in_place(lines, _LINE_SORTS[sort_by], order_by)
    return page_of(lines, offset, limit, lambda pair: render_b2b.receipt_line(state, *pair))


@endpoint
async def list_receipt_lines(request: Request, ctx: Context) -> Response:
    """`GET /ip/receipt-lines`: the lines of every receipt."""
    return await _lines(request, ctx, list(ctx.state.receipts.values()))


@endpoint
async def list_lines_of_receipt(request: Request, ctx: Context) -> Response:
    """`GET /ip/receipts/{receiptId}/lines`."""
    return await _lines(request, ctx, [_receipt(request, ctx)])


def _line(request: Request, ctx: Context) -> tuple[Receipt, ReceiptLine]:
    receipt = _receipt(request, ctx)
    line_id = path_int(request, "receiptLineId", LINE_NOT_FOUND)
    for line in receipt.lines:
        if line.id == line_id:
            return receipt, line
    raise B2BError(404, LINE_NOT_FOUND)


@endpoint
async def get_receipt_line(request: Request, ctx: Context) -> Response:
    """`GET /ip/receipts/{receiptId}/lines/{receiptLineId}`."""
    receipt, line = _line(request, ctx)
    return b2b_response(render_b2b.receipt_line(ctx.state, receipt, line))


@endpoint
async def delete_receipt_line(request: Request, ctx: Context) -> Response:
    """`DELETE /ip/receipts/{receiptId}/lines/{receiptLineId}`."""
    receipt, line = _line(request, ctx)
    payments.delete_receipt_line(ctx.state, receipt.id, line.id)
    return b2b_response({"id": line.id})


@endpoint
async def get_config(request: Request, ctx: Context) -> Response:
    """`GET /ip/config`."""
    return b2b_response(render_b2b.ip_config(ctx.state))


routes: list[BaseRoute] = [
    Route("/ip/payments", list_payments, methods=["GET"]),
    Route("/ip/payments/offline", create_offline_payment, methods=["POST"]),
    Route("/ip/payments/offline/{paymentId}", update_offline_payment, methods=["PUT"]),
    Route("/ip/payments/{paymentId}", get_payment, methods=["GET"]),
    Route("/ip/payments/{paymentId}", delete_payment, methods=["DELETE"]),
    Route("/ip/payments/{paymentId}/processing-status", set_processing_status, methods=["PUT"]),
    Route("/ip/payments/{paymentId}/operations", get_operations, methods=["GET"]),
    Route("/ip/payments/{paymentId}/operations", run_operation, methods=["POST"]),
    Route("/ip/payments/{paymentId}/transactions", transactions, methods=["GET"]),
    Route("/ip/receipts", list_receipts, methods=["GET"]),
    Route("/ip/receipts/{receiptId}", get_receipt, methods=["GET"]),
    Route("/ip/receipts/{receiptId}", delete_receipt, methods=["DELETE"]),
    Route("/ip/receipts/{receiptId}/lines", list_lines_of_receipt, methods=["GET"]),
    Route("/ip/receipts/{receiptId}/lines/{receiptLineId}", get_receipt_line, methods=["GET"]),
    Route(
        "/ip/receipts/{receiptId}/lines/{receiptLineId}", delete_receipt_line, methods=["DELETE"]
    ),
    Route("/ip/receipt-lines", list_receipt_lines, methods=["GET"]),
    Route("/ip/config", get_config, methods=["GET"]),
]
