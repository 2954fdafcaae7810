"""ERP → BigCommerce: push paid orders, shipments and invoices from JSONL or CSV files.

Every push is idempotent by the ERP's key, checked against BigCommerce itself (not a local
table), so pushing the same file twice creates nothing new even from another machine:

- orders by `external_order_id` (V2 `GET /orders?external_order_id=`), created through V2 as
  paid: status 11 Awaiting Fulfillment or 10 Completed, `payment_method`,
  `payment_provider_id`, `external_source`, `external_order_id`;
- shipments by `tracking_number` among the order's shipments (V2 moves the order to Shipped
  or Partially Shipped);
- invoices by `externalId` in B2B Edition: created, or updated with `details` merged into the
  stored ones (B2B Edition replaces `details` wholesale on PUT, so we read and merge first).

A bad row (unparsable, invalid, refused by the API) is reported with its line number and reason
and the others still go through; a re-run after fixing the file completes exactly the missing
ones, since the rows already applied are found and left alone.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from b2bsync.bigcommerce import BigCommerceError
from b2bsync.bigcommerce.models import Order
from b2bsync.bigcommerce.models.b2b import Invoice
from b2bsync.domain.origin import PUSHED_EXTERNAL_SOURCE
from b2bsync.domain.records import Address
from b2bsync.store.writebacks import PUSHED_ORDERS, WritebackEntry
from b2bsync.sync.context import SyncContext

__all__ = [
    "DEFAULT_EXTERNAL_SOURCE",
    "BadRow",
    "InvoicePushRow",
    "OrderPushRow",
    "Outcome",
    "PushKind",
    "PushReport",
    "RowResult",
    "ShipmentPushRow",
    "details_contain",
    "merge_details",
    "parse_rows",
    "push_file",
    "push_invoices",
    "push_orders",
    "push_shipments",
    "read_rows",
]

log = structlog.get_logger("b2bsync.inbound")

DEFAULT_EXTERNAL_SOURCE = PUSHED_EXTERNAL_SOURCE

PAID_STATUSES = (10, 11)
"""Completed and Awaiting Fulfillment: the statuses a paid order placed elsewhere may have."""


class PushKind(StrEnum):
    ORDERS = "orders"
    SHIPMENTS = "shipments"
    INVOICES = "invoices"


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    """Already in BigCommerce as the row says (a re-run)."""
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RowResult:
    """What happened to one row (for orders in CSV: one order, at its first line)."""

    line: int
    key: str
    outcome: Outcome
    detail: str = ""
    resource_id: int | None = None


@dataclass(slots=True)
class PushReport:
    kind: PushKind
    rows: list[RowResult] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        """How many rows ended with `outcome`."""
        return sum(1 for row in self.rows if row.outcome is outcome)

    @property
    def failed(self) -> list[RowResult]:
        """The bad rows, with line numbers and reasons."""
        return [row for row in self.rows if row.outcome is Outcome.FAILED]

    def as_json(self) -> dict[str, Any]:
        """The report as plain JSON (for `--json`)."""
        return {
            "kind": self.kind.value,
            "counts": {outcome.value: self.count(outcome) for outcome in Outcome},
            "rows": [
                {
                    "line": row.line,
                    "key": row.key,
                    "outcome": row.outcome.value,
                    "detail": row.detail,
                    "resource_id": row.resource_id,
                }
                for row in self.rows
            ],
        }


# --- rows ------------------------------------------------------------------------------------


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class AddressIn(Address):
    """An ERP row's address: the canonical address fields, whitespace stripped."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class LineIn(_Row):
    name: str = Field(min_length=1, max_length=250)
    quantity: int = Field(gt=0)
    price_ex_tax: Decimal = Field(ge=0)
    price_inc_tax: Decimal = Field(ge=0)
    sku: str = ""
    product_id: int | None = None


class OrderPushRow(_Row):
    """A paid order placed outside the store."""

    external_order_id: str = Field(min_length=1, max_length=255)
    status_id: int = 11
    payment_method: str = Field(default="Manual", min_length=1)
    payment_provider_id: str = ""
    external_source: str = DEFAULT_EXTERNAL_SOURCE
    customer_id: int = Field(default=0, ge=0)
    billing_address: AddressIn
    shipping_address: AddressIn | None = None
    lines: list[LineIn] = Field(min_length=1)
    staff_notes: str = ""
    customer_message: str = ""
    date_created: datetime | None = None

    @field_validator("status_id")
    @classmethod
    def _paid(cls, value: int) -> int:
        if value not in PAID_STATUSES:
            raise ValueError(
                "a pushed order is paid: status 10 (Completed) or 11 (Awaiting Fulfillment)"
            )
        return value

    @field_validator("date_created")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("date_created needs a time zone")
        return value


class ItemIn(_Row):
    quantity: int = Field(gt=0)
    sku: str = ""
    order_product_id: int | None = None


class ShipmentPushRow(_Row):
    """A shipment of an existing order (by `order_id` or `external_order_id`)."""

    order_id: int | None = None
    external_order_id: str | None = None
    tracking_number: str = Field(min_length=1, max_length=50)
    shipping_provider: str = ""
    tracking_carrier: str = ""
    shipping_method: str = ""
    comments: str = ""
    items: list[ItemIn] = Field(default_factory=list)
    """Empty means everything not shipped yet."""

    @field_validator("items", mode="before")
    @classmethod
    def _items_text(cls, value: Any) -> Any:
        # CSV writes items as "SKU:2;SKU-B:1".
        if isinstance(value, str):
            items = []
            for part in filter(None, (p.strip() for p in value.split(";"))):
                sku, _, quantity = part.rpartition(":")
                items.append({"sku": sku, "quantity": quantity})
            return items
        return value

    @property
    def key(self) -> str:
        """The order and tracking number, as reported."""
        order = self.order_id if self.order_id is not None else self.external_order_id
        return f"{order}/{self.tracking_number}"


class InvoicePushRow(_Row):
    """An ERP invoice, matched in B2B Edition by `external_id`."""

    external_id: str = Field(min_length=1)
    invoice_number: str = Field(min_length=1)
    company_id: int = Field(gt=0)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    original_balance: Decimal = Field(ge=0)
    open_balance: Decimal | None = Field(default=None, ge=0)
    order_number: str | None = None
    purchase_order_number: str | None = None
    external_customer_id: str | None = None
    type: str | None = None
    due_date: datetime | None = None
    details: dict[str, Any] | None = None
    extra_fields: dict[str, str] = Field(default_factory=dict)

    @field_validator("details", "extra_fields", mode="before")
    @classmethod
    def _json_text(cls, value: Any) -> Any:
        # CSV carries these as JSON text.
        if isinstance(value, str):
            return json.loads(value)
        return value


RowModel = OrderPushRow | ShipmentPushRow | InvoicePushRow
_MODELS: dict[PushKind, type[OrderPushRow] | type[ShipmentPushRow] | type[InvoicePushRow]] = {
    PushKind.ORDERS: OrderPushRow,
    PushKind.SHIPMENTS: ShipmentPushRow,
    PushKind.INVOICES: InvoicePushRow,
}

ParsedRow = tuple[int, dict[str, Any] | str]
"""A line number with the object read there, or why nothing could be read."""


def _jsonl(text: str) -> Iterator[ParsedRow]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, f"not JSON: {error.msg}"
            continue
        yield number, value if isinstance(value, dict) else "expected a JSON object"


def _nest(prefix: str, row: Mapping[str, str]) -> dict[str, str]:
    return {k.removeprefix(prefix): v for k, v in row.items() if k.startswith(prefix) and v}


def _csv(text: str, kind: PushKind) -> Iterator[ParsedRow]:
    """CSV rows as objects (empty cells left out). Orders take one row per line item; rows
    with the same `external_order_id` form one order, reported at its first line."""
    reader = csv.DictReader(io.StringIO(text))
    groups: dict[str, tuple[int, dict[str, Any]]] = {}
    for raw in reader:
        number = reader.line_num
        cells = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            yield number, "more cells than the header has columns"
            continue
        if kind is not PushKind.ORDERS:
            yield number, {k: v for k, v in cells.items() if v}
            continue
        line = {
            name: cells.pop(name)
            for name in ("name", "sku", "quantity", "price_ex_tax", "price_inc_tax", "product_id")
            if name in cells
        }
        # A row without an id cannot belong to another one: it is its own (bad) order.
        key = cells.get("external_order_id") or f"line {number}"
        if key not in groups:
            order: dict[str, Any] = {
                k: v for k, v in cells.items() if v and not k.startswith(("billing_", "shipping_"))
            }
            order["billing_address"] = _nest("billing_", cells)
            shipping = _nest("shipping_", cells)
            if shipping:
                order["shipping_address"] = shipping
            order["lines"] = []
            groups[key] = (number, order)
        groups[key][1]["lines"].append({k: v for k, v in line.items() if v})
    yield from groups.values()


def _reason(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "row"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that is not a valid row of its kind: why, and its key if it names one."""

    reason: str
    key: str = ""


_KEY_FIELDS = ("external_order_id", "external_id", "order_id")
"""Where a row that does not validate may still name its key, for the report."""


def _raw_key(value: Any) -> str:
    if isinstance(value, dict):
        for name in _KEY_FIELDS:
            found = value.get(name)
            if isinstance(found, str | int) and not isinstance(found, bool) and str(found):
                return str(found)
    return ""


def parse_rows(
    text: str, kind: PushKind, fmt: Literal["jsonl", "csv"]
) -> list[tuple[int, RowModel | BadRow]]:
    """Each row with its line number, validated, or why it is bad (with its key if it has
    one)."""
    model = _MODELS[kind]
    parsed: list[tuple[int, RowModel | BadRow]] = []
    source = _jsonl(text) if fmt == "jsonl" else _csv(text, kind)
    for number, value in source:
        if isinstance(value, str):
            parsed.append((number, BadRow(value)))
            continue
        try:
            parsed.append((number, model.model_validate(value)))
        except ValidationError as error:
            parsed.append((number, BadRow(_reason(error), _raw_key(value))))
        except ValueError as error:
            parsed.append((number, BadRow(str(error), _raw_key(value))))
    return sorted(parsed, key=lambda item: item[0])


def read_rows(path: Path, kind: PushKind) -> list[tuple[int, RowModel | BadRow]]:
    """The rows of a `.csv` file, or of a JSONL file (any other name)."""
    fmt: Literal["jsonl", "csv"] = "csv" if path.suffix.lower() == ".csv" else "jsonl"
    return parse_rows(path.read_text(encoding="utf-8-sig"), kind, fmt)


# --- applying rows ---------------------------------------------------------------------------


async def _log(ctx: SyncContext, entry: WritebackEntry) -> None:
    async with ctx.db.transaction() as tx:
        await tx.writebacks.append([entry])


def _money(value: Decimal) -> str:
    return format(value, "f")


def _product(line: LineIn) -> dict[str, Any]:
    """A V2 product: a catalog product with `product_id`, else a custom product."""
    product: dict[str, Any] = {
        "name": line.name,
        "quantity": line.quantity,
        "price_ex_tax": _money(line.price_ex_tax),
        "price_inc_tax": _money(line.price_inc_tax),
    }
    if line.product_id:
        product["product_id"] = line.product_id
    elif line.sku:
        product["sku"] = line.sku
    return product


def _order_body(row: OrderPushRow) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status_id": row.status_id,
        "customer_id": row.customer_id,
        "payment_method": row.payment_method,
        "external_source": row.external_source,
        "external_order_id": row.external_order_id,
        "billing_address": row.billing_address.model_dump(exclude_defaults=True),
        "products": [_product(line) for line in row.lines],
    }
    if row.payment_provider_id:
        body["payment_provider_id"] = row.payment_provider_id
    if row.shipping_address is not None:
        body["shipping_addresses"] = [row.shipping_address.model_dump(exclude_defaults=True)]
    if row.staff_notes:
        body["staff_notes"] = row.staff_notes
    if row.customer_message:
        body["customer_message"] = row.customer_message
    if row.date_created is not None:
        body["date_created"] = row.date_created.strftime("%a, %d %b %Y %H:%M:%S %z")
    return body


async def _find_order(ctx: SyncContext, external_order_id: str) -> Order | None:
    """The order pushed with this id, archived ones included (an archived order still exists;
    creating it again would duplicate it)."""
    for archived in (False, True):
        filters: dict[str, Any] = {"external_order_id": external_order_id}
        if archived:
            filters["is_deleted"] = "true"
        found = await ctx.client.orders.page(filters, limit=1)
        if found:
            return found[0]
    return None


async def _push_order(ctx: SyncContext, line: int, row: OrderPushRow) -> RowResult:
    existing = await _find_order(ctx, row.external_order_id)
    if existing is not None:
        return RowResult(line, row.external_order_id, Outcome.UNCHANGED, "exists", existing.id)
    order = await ctx.client.orders.create(_order_body(row))
    await _log(
        ctx,
        WritebackEntry(
            ctx.store,
            order.id,
            ctx.clock(),
            PUSHED_ORDERS,
            "v2.order",
            None,
            row.external_order_id,
        ),
    )
    return RowResult(line, row.external_order_id, Outcome.CREATED, "", order.id)


async def _push_shipment(ctx: SyncContext, line: int, row: ShipmentPushRow) -> RowResult:
    if row.order_id is not None:
        order_id = row.order_id
    elif row.external_order_id:
        found = await _find_order(ctx, row.external_order_id)
        if found is None:
            return RowResult(
                line,
                row.key,
                Outcome.FAILED,
                f"no order has external_order_id {row.external_order_id}",
            )
        order_id = found.id
    else:
        return RowResult(line, row.key, Outcome.FAILED, "give order_id or external_order_id")
    shipments = await ctx.client.orders.shipments(order_id)
    for shipment in shipments:
        if shipment.tracking_number == row.tracking_number:
            return RowResult(line, row.key, Outcome.UNCHANGED, "shipped", shipment.id)
    addresses = await ctx.client.orders.shipping_addresses(order_id)
    if not addresses:
        return RowResult(line, row.key, Outcome.FAILED, f"order {order_id} has nothing to ship")
    products = [product async for product in ctx.client.orders.products(order_id)]
    open_qty = {p.id: p.quantity - p.quantity_shipped for p in products}
    items: list[dict[str, int]] = []
    if not row.items:
        items = [{"order_product_id": i, "quantity": q} for i, q in open_qty.items() if q > 0]
    for item in row.items:
        matches = [
            p.id
            for p in products
            if (item.order_product_id is not None and p.id == item.order_product_id)
            or (item.order_product_id is None and item.sku and p.sku == item.sku)
        ]
        if not matches:
            what = item.order_product_id if item.order_product_id is not None else item.sku
            return RowResult(line, row.key, Outcome.FAILED, f"order {order_id} has no line {what}")
        if item.quantity > open_qty[matches[0]]:
            return RowResult(
                line,
                row.key,
                Outcome.FAILED,
                f"line {matches[0]} has {open_qty[matches[0]]} left to ship, not {item.quantity}",
            )
        items.append({"order_product_id": matches[0], "quantity": item.quantity})
    if not items:
        return RowResult(line, row.key, Outcome.FAILED, f"order {order_id} is fully shipped")
    body: dict[str, Any] = {
        "order_address_id": addresses[0].id,
        "items": items,
        "tracking_number": row.tracking_number,
    }
    for name in ("shipping_provider", "tracking_carrier", "shipping_method", "comments"):
        if getattr(row, name):
            body[name] = getattr(row, name)
    shipment = await ctx.client.orders.create_shipment(order_id, body)
    await _log(
        ctx,
        WritebackEntry(
            ctx.store,
            order_id,
            ctx.clock(),
            "push:shipments",
            "v2.shipment",
            None,
            row.tracking_number,
        ),
    )
    return RowResult(line, row.key, Outcome.CREATED, "", shipment.id)


def merge_details(stored: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """`given` merged into `stored`: objects merge key by key, anything else (lists included)
    is replaced by the given value."""
    merged = dict(stored)
    for key, value in given.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = merge_details(old, value)
        else:
            merged[key] = value
    return merged


def details_contain(stored: Any, given: Any) -> bool:
    """Whether `stored` already says everything `given` says. B2B Edition completes what it
    is given (line defaults, `type`, `orderDate`), so equality would never hold again."""
    if isinstance(given, Mapping):
        return isinstance(stored, Mapping) and all(
            key in stored and details_contain(stored[key], value) for key, value in given.items()
        )
    if isinstance(given, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(given)
            and all(details_contain(a, b) for a, b in zip(stored, given, strict=True))
        )
    return bool(stored == given)


def _invoice_fields(row: InvoicePushRow) -> dict[str, Any]:
    open_balance = row.open_balance if row.open_balance is not None else row.original_balance
    fields: dict[str, Any] = {
        "invoiceNumber": row.invoice_number,
        "customerId": str(row.company_id),
        "originalBalance": {"code": row.currency, "value": float(row.original_balance)},
        "openBalance": {"code": row.currency, "value": float(open_balance)},
        "externalId": row.external_id,
        "source": 1,
    }
    optional = {
        "orderNumber": row.order_number,
        "purchaseOrderNumber": row.purchase_order_number,
        "externalCustomerId": row.external_customer_id,
        "type": row.type,
        "dueDate": int(row.due_date.timestamp()) if row.due_date is not None else None,
    }
    fields.update({k: v for k, v in optional.items() if v is not None})
    if row.extra_fields:
        fields["extraFields"] = [
            {"fieldName": k, "fieldValue": v} for k, v in row.extra_fields.items()
        ]
    return fields


def _invoice_changes(row: InvoicePushRow, invoice: Invoice) -> dict[str, Any]:
    """The fields of `row` that differ from the stored invoice (details merged)."""
    wanted = _invoice_fields(row)
    current: dict[str, Any] = {
        "invoiceNumber": invoice.invoice_number,
        "customerId": str(invoice.customer_id),
        "originalBalance": {
            "code": invoice.original_balance.code,
            "value": float(invoice.original_balance.value),
        },
        "openBalance": {
            "code": invoice.open_balance.code,
            "value": float(invoice.open_balance.value),
        },
        "externalId": invoice.external_id,
        "source": invoice.source,
        "orderNumber": invoice.order_number,
        "purchaseOrderNumber": invoice.purchase_order_number,
        "externalCustomerId": invoice.external_customer_id,
        "type": invoice.type,
        "dueDate": int(invoice.due_date.timestamp()) if invoice.due_date is not None else None,
        "extraFields": [
            {"fieldName": f.field_name, "fieldValue": f.field_value or ""}
            for f in invoice.extra_fields
            if f.field_name in row.extra_fields
        ],
    }
    changes = {k: v for k, v in wanted.items() if current.get(k) != v}
    if row.details is not None and not details_contain(invoice.details or {}, row.details):
        changes["details"] = merge_details(invoice.details or {}, row.details)
    return changes


async def _push_invoice(ctx: SyncContext, line: int, row: InvoicePushRow) -> RowResult:
    found = [
        invoice
        async for invoice in ctx.client.b2b.invoices({"externalId[]": row.external_id})
        if invoice.external_id == row.external_id
    ]
    if not found:
        body = _invoice_fields(row)
        if row.details is not None:
            body["details"] = row.details
        invoice_id = await ctx.client.b2b.create_invoice(body)
        await _log(
            ctx,
            WritebackEntry(
                ctx.store,
                None,
                ctx.clock(),
                "push:invoices",
                f"b2b.invoice.{invoice_id}",
                None,
                row.invoice_number,
            ),
        )
        return RowResult(line, row.external_id, Outcome.CREATED, "", invoice_id)
    invoice = await ctx.client.b2b.invoice(found[0].id)
    changes = _invoice_changes(row, invoice)
    if not changes:
        return RowResult(line, row.external_id, Outcome.UNCHANGED, "up to date", invoice.id)
    await ctx.client.b2b.update_invoice(invoice.id, changes)
    await _log(
        ctx,
        WritebackEntry(
            ctx.store,
            None,
            ctx.clock(),
            "push:invoices",
            f"b2b.invoice.{invoice.id}",
            None,
            ", ".join(sorted(changes)),
        ),
    )
    return RowResult(line, row.external_id, Outcome.UPDATED, ", ".join(sorted(changes)), invoice.id)


def _key(row: RowModel) -> str:
    if isinstance(row, OrderPushRow):
        return row.external_order_id
    if isinstance(row, ShipmentPushRow):
        return row.key
    return row.external_id


async def _push(
    ctx: SyncContext,
    kind: PushKind,
    rows: Iterable[tuple[int, RowModel | BadRow]],
    apply: Callable[[SyncContext, int, Any], Any],
) -> PushReport:
    report = PushReport(kind)
    seen: dict[str, int] = {}
    for line, row in rows:
        if isinstance(row, BadRow):
            report.rows.append(RowResult(line, row.key, Outcome.FAILED, row.reason))
            continue
        key = _key(row)
        if key in seen:
            report.rows.append(
                RowResult(line, key, Outcome.FAILED, f"same key as line {seen[key]}")
            )
            continue
        seen[key] = line
        try:
            result: RowResult = await apply(ctx, line, row)
        except BigCommerceError as error:
            result = RowResult(line, key, Outcome.FAILED, str(error))
        report.rows.append(result)
    log.info(
        "inbound.pushed",
        store=ctx.store,
        kind=kind.value,
        **{outcome.value: report.count(outcome) for outcome in Outcome},
    )
    return report


async def push_orders(
    ctx: SyncContext, rows: Iterable[tuple[int, RowModel | BadRow]]
) -> PushReport:
    """Create the paid orders not in BigCommerce yet (by `external_order_id`)."""
    return await _push(ctx, PushKind.ORDERS, rows, _push_order)


async def push_shipments(
    ctx: SyncContext, rows: Iterable[tuple[int, RowModel | BadRow]]
) -> PushReport:
    """Create the shipments not in BigCommerce yet (by tracking number per order)."""
    return await _push(ctx, PushKind.SHIPMENTS, rows, _push_shipment)


async def push_invoices(
    ctx: SyncContext, rows: Iterable[tuple[int, RowModel | BadRow]]
) -> PushReport:
    """Create or update invoices in B2B Edition (by `externalId`)."""
    return await _push(ctx, PushKind.INVOICES, rows, _push_invoice)


_PUSHERS = {
    PushKind.ORDERS: push_orders,
    PushKind.SHIPMENTS: push_shipments,
    PushKind.INVOICES: push_invoices,
}


async def push_file(ctx: SyncContext, kind: PushKind, path: Path) -> PushReport:
    """Read `path` (CSV by its `.csv` suffix, else JSONL) and push its rows."""
    return await _PUSHERS[kind](ctx, read_rows(path, kind))
