"""B2B Edition Invoice Portal invoices (`/ip/invoices`, `/ip/orders/{orderId}/invoices`),
after invoice-management.yaml."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from b2bsync.sandbox import render_b2b
from b2bsync.sandbox.b2b import invoices
from b2bsync.sandbox.b2b.extra_fields import check_extra_fields
from b2bsync.sandbox.errors import B2BError
from b2bsync.sandbox.models import Invoice
from b2bsync.sandbox.responses import b2b_response
from b2bsync.sandbox.routes.b2b_common import (
    Query,
    body,
    contains,
    extra_fields_of,
    money_of,
    page_of,
    path_int,
    sort_in_place,
)
from b2bsync.sandbox.routes.endpoint import Context, endpoint
from b2bsync.sandbox.world import StoreState

NOT_FOUND = "Invoice does not exist"

_SORT_KEYS: Mapping[str, Callable[[Invoice], Any]] = {
    "invoiceNumber": lambda inv: inv.invoice_number,
    "createdAt": lambda inv: inv.created_at,
    "customerId": lambda inv: inv.customer_id,
    "externalCustomerId": lambda inv: inv.external_customer_id or "",
    "dueDate": lambda inv: inv.due_date,
    "updatedAt": lambda inv: inv.updated_at,
    "isPendingPayment": lambda inv: inv.pending_payment_count > 0,
    "openBalance": lambda inv: inv.open_balance.value,
    "originalBalance": lambda inv: inv.original_balance.value,
    "status": lambda inv: inv.status,
}

_SEARCH_FIELDS: Mapping[str, Callable[[Invoice], object]] = {
    "invoiceNumber": lambda inv: inv.invoice_number,
    "type": lambda inv: inv.type,
    "orderNumber": lambda inv: inv.order_number,
    "purchaseOrderNumber": lambda inv: inv.purchase_order_number,
    "customerId": lambda inv: inv.customer_id,
    "externalCustomerId": lambda inv: inv.external_customer_id,
}


def _matches_search(invoice: Invoice, search_by: str | None, text: str) -> bool:
    if search_by is not None:
        return contains(_SEARCH_FIELDS[search_by](invoice), text)
    return any(
        contains(_SEARCH_FIELDS[name](invoice), text)
        for name in ("invoiceNumber", "orderNumber", "purchaseOrderNumber")
    )


def _company_name(state: StoreState, company_id: int) -> str:
    company = state.companies.get(company_id)
    return company.name if company else ""


@endpoint
async def list_invoices(request: Request, ctx: Context) -> Response:
    """`GET /ip/invoices` with its filters and sorts."""
    state = ctx.state
    query = Query(request)
    offset, limit = query.page()
    order_by = query.choice("orderBy", ("DESC", "ASC"), "DESC")
    sort_by = query.choice("sortBy", tuple(_SORT_KEYS), "createdAt") or "createdAt"
    search_by = query.choice("searchBy", tuple(_SEARCH_FIELDS))
    text = query.text("q")
    customer_name = query.text("customerName")
    customer_id = query.integer("customerId")
    status = query.integer("status")
    if status is not None and status not in (0, 1, 2):
        raise B2BError(422, "status must be 0, 1 or 2")
    begin, end = query.moment("beginDateAt"), query.moment("endDateAt")
    external_ids = set(query.texts("externalId"))
    include_extra = query.choice("isIncludeExtraFields", ("0", "1"), "0") == "1"
    channels = set(query.integers("channelIds"))

    found = [
        invoice
        for invoice in state.invoices.values()
        if (text is None or _matches_search(invoice, search_by, text))
        and (
            customer_name is None
            or contains(_company_name(state, invoice.customer_id), customer_name)
        )
        and (customer_id is None or invoice.customer_id == customer_id)
        and (status is None or invoice.status == status)
        and (begin is None or invoice.created_at >= begin)
        and (end is None or invoice.created_at <= end)
        and (not external_ids or (invoice.external_id or "") in external_ids)
        and (not channels or invoice.channel_id in channels)
    ]
    found.sort(key=lambda invoice: invoice.id)
    sort_in_place(found, _SORT_KEYS[sort_by], order_by)
    return page_of(
        found,
        offset,
        limit,
        lambda invoice: render_b2b.invoice(state, invoice, include_extra_fields=include_extra),
    )


def _text(payload: Mapping[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise B2BError(422, f"{name} must be a string")
    return str(value)


def _integer(payload: Mapping[str, Any], name: str, choices: tuple[int, ...] = ()) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise B2BError(422, f"{name} must be an integer")
    if choices and int(value) not in choices:
        raise B2BError(422, f"{name} must be one of {list(choices)}")
    return int(value)


def _moment(payload: Mapping[str, Any], name: str) -> datetime | None:
    value = _integer(payload, name)
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _company_id(payload: Mapping[str, Any]) -> int | None:
    raw = _text(payload, "customerId")
    if raw is None:
        return None
    if not raw.isdigit():
        raise B2BError(422, "customerId must be a company id")
    return int(raw)


def _details(raw: Any, currency: str, issued: datetime) -> dict[str, Any]:
    """Invoice details as given, completed with what the response schema requires."""
    if not isinstance(raw, dict):
        raise B2BError(422, "details must be an object")
    details = copy.deepcopy(raw)
    details.setdefault("type", "StandardInvoiceDetails")
    header = details.setdefault("header", {})
    if not isinstance(header, dict):
        raise B2BError(422, "details.header must be an object")
    header.setdefault("orderDate", render_b2b.unix(issued))
    inner = details.get("details", {})
    if not isinstance(inner, dict):
        raise B2BError(422, "details.details must be an object")
    lines = inner.get("lineItems", [])
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise B2BError(422, "details.details.lineItems must be an array of objects")
    for line in lines:
        line.setdefault("description", "")
        line.setdefault("type", "product")
        line.setdefault("comments", "")
        line.setdefault("unitDiscount", {"code": currency, "value": "0.0000"})
    return details


def _invoice_fields(payload: Mapping[str, Any], currency: str, now_: datetime) -> dict[str, Any]:
    """The optional fields of a create or update body as `Invoice` attributes."""
    fields: dict[str, Any] = {}
    for key, attribute in (
        ("type", "type"),
        ("orderNumber", "order_number"),
        ("purchaseOrderNumber", "purchase_order_number"),
        ("externalId", "external_id"),
        ("externalCustomerId", "external_customer_id"),
        ("externalPdfUrl", "external_pdf_url"),
        ("termsConditions", "terms_conditions"),
    ):
        if (value := _text(payload, key)) is not None:
            fields[attribute] = value
    if (status := _integer(payload, "status", (0, 1, 2))) is not None:
        fields["status"] = status
    if (source := _integer(payload, "source", (0, 1))) is not None:
        fields["source"] = source
    if (channel := _integer(payload, "channelId")) is not None:
        fields["channel_id"] = channel
    if (due := _moment(payload, "dueDate")) is not None:
        fields["due_date"] = due
    if payload.get("details") is not None:
        fields["details"] = _details(payload["details"], currency, now_)
    if payload.get("extraFields") is not None:
        fields["extra_fields"] = check_extra_fields(
            invoices.INVOICE_EXTRA_FIELDS, extra_fields_of(payload["extraFields"])
        )
    return fields


@endpoint
async def create_invoice(request: Request, ctx: Context) -> Response:
    """`POST /ip/invoices`."""
    state = ctx.state
    payload = await body(request)
    missing = [
        name
        for name in ("invoiceNumber", "originalBalance", "openBalance", "customerId")
        if payload.get(name) in (None, "")
    ]
    if missing:
        raise B2BError(422, f"{', '.join(missing)} is required")
    original = money_of(payload["originalBalance"], "originalBalance")
    open_balance = money_of(payload["openBalance"], "openBalance")
    company_id = _company_id(payload)
    if company_id is None:
        raise B2BError(422, "customerId is required")
    moment = ctx.now
    fields = _invoice_fields(payload, original.code, moment)
    issued = _moment(payload, "issuedAt")
    invoice = invoices.create_invoice(
        state,
        invoice_number=str(_text(payload, "invoiceNumber")),
        customer_id=company_id,
        original_balance=original,
        open_balance=open_balance,
        now=moment,
        created_at=issued,
        **fields,
    )
    return b2b_response({"id": invoice.id})


@endpoint
async def create_invoice_from_order(request: Request, ctx: Context) -> Response:
    """`POST /ip/orders/{orderId}/invoices`; `orderId` is the B2B Edition order id (§0)."""
    message = "Order does not exist"
    state = ctx.state
    order_id = path_int(request, "orderId", message)
    record = next((r for r in state.b2b_orders.values() if r.id == order_id), None)
    source = state.orders.get(record.bc_order_id) if record else None
    if source is None:
        raise B2BError(404, message)
    invoice = invoices.create_invoice_from_order(state, source, ctx.now)
    return b2b_response({"invoiceNumber": invoice.invoice_number, "invoiceId": invoice.id})


@endpoint
async def get_invoice(request: Request, ctx: Context) -> Response:
    """`GET /ip/invoices/{invoiceId}` (with its extra fields)."""
    state = ctx.state
    invoice = invoices.get_invoice(state, path_int(request, "invoiceId", NOT_FOUND))
    return b2b_response(render_b2b.invoice(state, invoice, include_extra_fields=True))


@endpoint
async def update_invoice(request: Request, ctx: Context) -> Response:
    """`PUT /ip/invoices/{invoiceId}`: the given fields only; `details` replaced wholesale."""
    state = ctx.state
    invoice = invoices.get_invoice(state, path_int(request, "invoiceId", NOT_FOUND))
    payload = await body(request)
    moment = ctx.now
    changes = _invoice_fields(payload, invoice.original_balance.code, moment)
    if payload.get("invoiceNumber") is not None:
        number = _text(payload, "invoiceNumber")
        if not number:
            raise B2BError(422, "invoiceNumber must not be empty")
        changes["invoice_number"] = number
    if (company_id := _company_id(payload)) is not None:
        changes["customer_id"] = company_id
    for key, attribute in (
        ("originalBalance", "original_balance"),
        ("openBalance", "open_balance"),
    ):
        if payload.get(key) is not None:
            changes[attribute] = money_of(payload[key], key)
    if (created := _moment(payload, "createdAt")) is not None:
        changes["created_at"] = created
    invoices.update_invoice(state, invoice, changes, moment)
    return b2b_response({"id": invoice.id})


@endpoint
async def delete_invoice(request: Request, ctx: Context) -> Response:
    """`DELETE /ip/invoices/{invoiceId}`."""
    invoice_id = path_int(request, "invoiceId", NOT_FOUND)
    invoices.delete_invoice(ctx.state, invoice_id)
    return b2b_response({"id": invoice_id})


@endpoint
async def download_pdf(request: Request, ctx: Context) -> Response:
    """`GET /ip/invoices/{invoiceId}/download-pdf`: where the invoice's PDF can be fetched."""
    state = ctx.state
    invoice = invoices.get_invoice(state, path_int(request, "invoiceId", NOT_FOUND))
    data = {"url": f"https://invoices.sandbox.invalid/{state.store_hash}/{invoice.id}.pdf"}
    if invoice.external_pdf_url:
        data["externalPdfUrl"] = invoice.external_pdf_url
    return b2b_response(data)


@endpoint
async def extra_fields(request: Request, ctx: Context) -> Response:
    """`GET /ip/invoices/extra-fields`: the store's invoice extra-field configurations."""
    offset, limit = Query(request).page()
    return page_of(
        invoices.INVOICE_EXTRA_FIELDS, offset, limit, render_b2b.invoice_extra_field_config
    )


routes: list[BaseRoute] = [
    Route("/ip/invoices", list_invoices, methods=["GET"]),
    Route("/ip/invoices", create_invoice, methods=["POST"]),
    Route("/ip/invoices/extra-fields", extra_fields, methods=["GET"]),
    Route("/ip/invoices/{invoiceId}", get_invoice, methods=["GET"]),
    Route("/ip/invoices/{invoiceId}", update_invoice, methods=["PUT"]),
    Route("/ip/invoices/{invoiceId}", delete_invoice, methods=["DELETE"]),
    Route("/ip/invoices/{invoiceId}/download-pdf", download_pdf, methods=["GET"]),
    Route("/ip/orders/{orderId}/invoices", create_invoice_from_order, methods=["POST"]),
]
