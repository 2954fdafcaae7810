"""B2B Edition management API v3 (`/api/v3/io`): companies, orders, extra fields, invoices,
payments, offline payments, processing status and operations, receipts, invoice-portal config.

Dates in filters are unix seconds; every path id of orders is the BigCommerce order id
(`bcOrderId`), except `POST /ip/orders/{orderId}/invoices`, whose spec names the B2B order id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from b2bsync.bigcommerce._decode import Rejects, decode_each, decode_one, parse
from b2bsync.bigcommerce._envelope import data_list, data_object
from b2bsync.bigcommerce._errors import BadPayload
from b2bsync.bigcommerce._http import ApiHttp, ApiResponse
from b2bsync.bigcommerce._pagination import anchored_pages, b2b_pages, flatten
from b2bsync.bigcommerce._wire import format_unix
from b2bsync.bigcommerce.models.b2b import (
    B2BOrder,
    B2BOrderProduct,
    Company,
    ExtraFieldConfig,
    Invoice,
    InvoiceCreated,
    Payment,
    PaymentOperations,
    Receipt,
    ReceiptLine,
)
from b2bsync.domain.rejects import Rejected, RejectedStream

__all__ = ["B2BApi", "b2b_query"]

ModelT = TypeVar("ModelT", bound=BaseModel)

PAGE_SIZE = 200
"""Orders allow at most 200 per page; the invoice portal documents 250, but its shared
pagination model makes 250 itself exclusive, so 200 is valid everywhere."""


def b2b_query(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """Filters with datetimes as unix seconds; list values are repeated (`channelIds[]`)."""
    return {
        key: format_unix(value) if isinstance(value, datetime) else value
        for key, value in (filters or {}).items()
    }


_B2B_ORDER_KEYS = ("bcOrderId", "orderId", "id")
"""Where a rejected B2B order record's key is read from, first found wins."""


def _bc_order_id(raw: Any) -> int | None:
    """The BigCommerce order a raw B2B order record names, when it says so plainly."""
    value = raw.get("bcOrderId") if isinstance(raw, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _objects(body: Any) -> list[dict[str, Any]]:
    """The JSON objects under `data` of a list answer; anything else in the array is skipped."""
    return [item for item in data_list(body) if isinstance(item, dict)]


def _id_of(body: Any, *keys: str) -> int:
    data = data_object(body)
    for key in keys:
        if data.get(key) is not None:
            return int(data[key])
    raise BadPayload(f"expected {' or '.join(keys)} in the answer's data")


class B2BApi:
    """The B2B Edition management API of one store."""

    def __init__(self, http: ApiHttp) -> None:
        self._http = http

    async def _iterate(
        self,
        path: str,
        operation: str,
        model: type[ModelT],
        filters: Mapping[str, Any] | None,
        page_size: int,
        *,
        rejects: Rejects | None = None,
        stream: RejectedStream | None = None,
        id_fields: Sequence[str] = ("id",),
    ) -> AsyncIterator[ModelT]:
        """The listing's records. A malformed one goes to `rejects` (as a `Rejected` of
        `stream`) and the listing goes on; without `rejects` it raises `BadPayload`."""

        async def fetch(params: dict[str, Any]) -> ApiResponse:
            return await self._http.get(path, operation=operation, params=params)

        async for item in flatten(b2b_pages(fetch, b2b_query(filters), limit=page_size)):
            if rejects is None or stream is None:
                yield parse(model, item, operation)
                continue
            decoded = decode_one(model, item, stream, id_fields=id_fields)
            if isinstance(decoded, Rejected):
                rejects(decoded)
            else:
                yield decoded

    async def _get_one(self, path: str, operation: str, model: type[ModelT]) -> ModelT:
        response = await self._http.get(path, operation=operation)
        return parse(model, data_object(response.body), operation)

    async def _send(self, method: str, path: str, operation: str, body: Any = None) -> Any:
        response = await self._http.request(method, path, operation=operation, json_body=body)
        return response.body

    # Companies

    def companies(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        page_size: int = PAGE_SIZE,
        rejects: Rejects | None = None,
    ) -> AsyncIterator[Company]:
        """Companies (filters: `minModified`, `companyStatus`, `bcOrderId`, `q`, ...); a
        malformed one goes to `rejects` when given."""
        return self._iterate(
            "/companies",
            "b2b.companies.list",
            Company,
            filters,
            page_size,
            rejects=rejects,
            stream=RejectedStream.B2B_COMPANY,
            id_fields=("companyId", "id"),
        )

    async def company(self, company_id: int) -> Company:
        """One company."""
        return await self._get_one(f"/companies/{company_id}", "b2b.companies.get", Company)

    # Orders

    def orders(
        self, filters: Mapping[str, Any] | None = None, *, page_size: int = PAGE_SIZE
    ) -> AsyncIterator[B2BOrder]:
        """B2B order records (by default only the last year's; `minModified` etc. in unix)."""
        return self._iterate("/orders", "b2b.orders.list", B2BOrder, filters, page_size)

    async def orders_modified_page(
        self,
        anchor: datetime,
        until: datetime,
        *,
        offset: int,
        limit: int,
        rejects: Rejects,
    ) -> tuple[list[B2BOrder], int]:
        """One page of the order records modified in `[anchor, until]`, oldest first, with
        their extra fields: the records that decode, and how many objects the API returned (a
        malformed record goes to `rejects` but still counts, so a full page is not the last)."""
        params = b2b_query(
            {
                "minModified": anchor,
                "maxModified": until,
                "sortBy": "updatedAt",
                "orderBy": "ASC",
                "showExtra": "true",
                "limit": limit,
                "offset": offset,
            }
        )
        response = await self._http.get("/orders", operation="b2b.orders.list", params=params)
        returned = _objects(response.body)
        good, bad = decode_each(
            B2BOrder,
            returned,
            RejectedStream.B2B_ORDER,
            id_fields=_B2B_ORDER_KEYS,
            order_of=_bc_order_id,
        )
        for rejected in bad:
            rejects(rejected)
        return good, len(returned)

    def orders_modified_since(
        self,
        since: datetime,
        until: datetime,
        *,
        page_size: int = PAGE_SIZE,
        rejects: Rejects,
    ) -> AsyncIterator[list[B2BOrder]]:
        """Pages of the order records modified in `[since, until]`, oldest first, re-anchored
        on the newest `updatedAt` read (see `anchored_pages`); a malformed record goes to
        `rejects` before the page it came with is yielded. A record without `updatedAt` sorts
        at `since`."""

        async def fetch(anchor: datetime, offset: int) -> tuple[list[B2BOrder], int]:
            return await self.orders_modified_page(
                anchor, until, offset=offset, limit=page_size, rejects=rejects
            )

        def key(order: B2BOrder) -> tuple[int, datetime]:
            return order.bc_order_id, order.updated_at or since

        return anchored_pages(fetch, key, since, page_size)

    async def order(self, bc_order_id: int) -> B2BOrder:
        """The B2B record of a BigCommerce order with the invoice fields (`isInvoiceOrder`,
        `invoiceId`); `NotFound` until B2B Edition has attached it."""
        return await self._get_one(f"/orders/{bc_order_id}", "b2b.orders.get", B2BOrder)

    async def create_order(
        self,
        *,
        bc_order_id: int,
        customer_id: int,
        po_number: str | None = None,
        extra_fields: Sequence[Mapping[str, str]] = (),
    ) -> Any:
        """Attach B2B data to a new BigCommerce order (only within seconds of its creation)."""
        body: dict[str, Any] = {"bcOrderId": bc_order_id, "customerId": customer_id}
        if po_number is not None:
            body["poNumber"] = po_number
        if extra_fields:
            body["extraFields"] = [dict(field) for field in extra_fields]
        return await self._send("POST", "/orders", "b2b.orders.create", body)

    async def update_order(
        self,
        bc_order_id: int,
        *,
        po_number: str | None = None,
        extra_fields: Sequence[Mapping[str, str]] | None = None,
    ) -> Any:
        """Set the PO number and/or extra fields (`[{fieldName, fieldValue}]`)."""
        body: dict[str, Any] = {}
        if po_number is not None:
            body["poNumber"] = po_number
        if extra_fields is not None:
            body["extraFields"] = [dict(field) for field in extra_fields]
        if not body:
            raise ValueError("update_order needs po_number or extra_fields")
        return await self._send("PUT", f"/orders/{bc_order_id}", "b2b.orders.update", body)

    async def order_products(self, bc_order_id: int) -> list[B2BOrderProduct]:
        """The lines of a B2B order."""
        response = await self._http.get(
            f"/orders/{bc_order_id}/products", operation="b2b.orders.products"
        )
        return [
            parse(B2BOrderProduct, item, "b2b.orders.products") for item in data_list(response.body)
        ]

    def order_extra_fields(self, *, page_size: int = PAGE_SIZE) -> AsyncIterator[ExtraFieldConfig]:
        """The order extra-field definitions."""
        return self._iterate(
            "/orders/extra-fields", "b2b.orders.extra_fields", ExtraFieldConfig, None, page_size
        )

    # Invoices

    def invoices(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        page_size: int = PAGE_SIZE,
        rejects: Rejects | None = None,
    ) -> AsyncIterator[Invoice]:
        """Invoices (filters: `sortBy=updatedAt`, `orderBy`, `searchBy`+`q`, `status`, ...); a
        malformed one goes to `rejects` when given."""
        return self._iterate(
            "/ip/invoices",
            "b2b.invoices.list",
            Invoice,
            filters,
            page_size,
            rejects=rejects,
            stream=RejectedStream.B2B_INVOICE,
        )

    async def invoice(self, invoice_id: int) -> Invoice:
        """One invoice with its extra fields."""
        return await self._get_one(f"/ip/invoices/{invoice_id}", "b2b.invoices.get", Invoice)

    async def create_invoice(self, body: Mapping[str, Any]) -> int:
        """Create an invoice; returns its id. `invoiceNumber` must be unique."""
        return _id_of(
            await self._send("POST", "/ip/invoices", "b2b.invoices.create", dict(body)), "id"
        )

    async def update_invoice(self, invoice_id: int, changes: Mapping[str, Any]) -> int:
        """Change an invoice (`details` is replaced wholesale)."""
        body = await self._send(
            "PUT", f"/ip/invoices/{invoice_id}", "b2b.invoices.update", dict(changes)
        )
        return _id_of(body, "id")

    async def delete_invoice(self, invoice_id: int) -> None:
        """Delete an invoice."""
        await self._send("DELETE", f"/ip/invoices/{invoice_id}", "b2b.invoices.delete")

    async def invoice_from_order(self, order_id: int) -> InvoiceCreated:
        """Build an invoice from an order (`orderId` is documented as the B2B order id)."""
        body = await self._send(
            "POST", f"/ip/orders/{order_id}/invoices", "b2b.invoices.from_order"
        )
        return parse(InvoiceCreated, data_object(body), "b2b.invoices.from_order")

    async def invoice_pdf(self, invoice_id: int) -> dict[str, Any]:
        """`{url, externalPdfUrl?}` of the invoice's PDF."""
        response = await self._http.get(
            f"/ip/invoices/{invoice_id}/download-pdf", operation="b2b.invoices.pdf"
        )
        return data_object(response.body)

    def invoice_extra_fields(
        self, *, page_size: int = PAGE_SIZE
    ) -> AsyncIterator[ExtraFieldConfig]:
        """The invoice extra-field definitions."""
        return self._iterate(
            "/ip/invoices/extra-fields",
            "b2b.invoices.extra_fields",
            ExtraFieldConfig,
            None,
            page_size,
        )

    # Payments

    def payments(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        page_size: int = PAGE_SIZE,
        rejects: Rejects | None = None,
    ) -> AsyncIterator[Payment]:
        """Invoice payments (filters: `invoiceId`, `processingStatus`, `searchBy`+`q`, ...); a
        malformed one goes to `rejects` when given."""
        return self._iterate(
            "/ip/payments",
            "b2b.payments.list",
            Payment,
            filters,
            page_size,
            rejects=rejects,
            stream=RejectedStream.B2B_PAYMENT,
        )

    async def payment(self, payment_id: int) -> Payment:
        """One payment."""
        return await self._get_one(f"/ip/payments/{payment_id}", "b2b.payments.get", Payment)

    async def delete_payment(self, payment_id: int) -> None:
        """Delete a payment."""
        await self._send("DELETE", f"/ip/payments/{payment_id}", "b2b.payments.delete")

    async def set_processing_status(self, payment_id: int, status: int) -> int:
        """Move a payment to processing status 1-4 (check `operations` first)."""
        body = await self._send(
            "PUT",
            f"/ip/payments/{payment_id}/processing-status",
            "b2b.payments.processing_status",
            {"processingStatus": status},
        )
        return _id_of(body, "id")

    async def operations(self, payment_id: int) -> PaymentOperations:
        """The operations and statuses allowed for the payment now."""
        return await self._get_one(
            f"/ip/payments/{payment_id}/operations", "b2b.payments.operations", PaymentOperations
        )

    async def apply_operation(self, payment_id: int, operation_code: int) -> Any:
        """Run operation 0 (apply to balances), 1 (revert) or 2 (pull updates from the order)."""
        return await self._send(
            "POST",
            f"/ip/payments/{payment_id}/operations",
            "b2b.payments.operate",
            {"operationCode": operation_code},
        )

    async def transactions(self, payment_id: int) -> list[dict[str, Any]]:
        """The gateway transactions of a payment, as plain JSON objects."""
        response = await self._http.get(
            f"/ip/payments/{payment_id}/transactions", operation="b2b.payments.transactions"
        )
        return _objects(response.body)

    async def create_offline_payment(self, body: Mapping[str, Any]) -> int:
        """Record an offline payment (`lineItems`, `currency`, `details.memo`, `customerId`);
        returns the payment id."""
        answer = await self._send(
            "POST", "/ip/payments/offline", "b2b.payments.offline_create", dict(body)
        )
        return _id_of(answer, "paymentId", "id")

    async def update_offline_payment(self, payment_id: int, changes: Mapping[str, Any]) -> Any:
        """Change an offline payment."""
        return await self._send(
            "PUT",
            f"/ip/payments/offline/{payment_id}",
            "b2b.payments.offline_update",
            dict(changes),
        )

    # Receipts

    def receipts(
        self, filters: Mapping[str, Any] | None = None, *, page_size: int = PAGE_SIZE
    ) -> AsyncIterator[Receipt]:
        """Receipts (filters: `sortBy`, `searchBy`+`q`, `paymentStatus[]`, ...)."""
        return self._iterate("/ip/receipts", "b2b.receipts.list", Receipt, filters, page_size)

    async def receipt(self, receipt_id: int) -> Receipt:
        """One receipt."""
        return await self._get_one(f"/ip/receipts/{receipt_id}", "b2b.receipts.get", Receipt)

    async def delete_receipt(self, receipt_id: int) -> None:
        """Delete a receipt."""
        await self._send("DELETE", f"/ip/receipts/{receipt_id}", "b2b.receipts.delete")

    def receipt_lines(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        receipt_id: int | None = None,
        page_size: int = PAGE_SIZE,
    ) -> AsyncIterator[ReceiptLine]:
        """Receipt lines of every receipt, or of one with `receipt_id`."""
        path = "/ip/receipt-lines" if receipt_id is None else f"/ip/receipts/{receipt_id}/lines"
        return self._iterate(path, "b2b.receipt_lines.list", ReceiptLine, filters, page_size)

    async def receipt_line(self, receipt_id: int, line_id: int) -> ReceiptLine:
        """One receipt line."""
        return await self._get_one(
            f"/ip/receipts/{receipt_id}/lines/{line_id}", "b2b.receipt_lines.get", ReceiptLine
        )

    async def delete_receipt_line(self, receipt_id: int, line_id: int) -> None:
        """Delete a receipt line."""
        await self._send(
            "DELETE", f"/ip/receipts/{receipt_id}/lines/{line_id}", "b2b.receipt_lines.delete"
        )

    # Invoice-portal configuration

    async def ip_config(self) -> dict[str, Any]:
        """The invoice-portal configuration (`paymentsBigcommerceSalesOrder.productId` names the
        product of invoice-payment checkouts); internal in the docs, so it may be refused."""
        response = await self._http.get("/ip/config", operation="b2b.ip_config.get")
        return data_object(response.body)
