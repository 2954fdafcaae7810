"""B2B order records, the state behind `routes/b2b_orders.py`: B2B Edition's own data (PO number,
extra fields, the invoice-payment facts) on a BigCommerce order of a company buyer, recorded
when B2B Edition notices the order or through `POST /orders` within 10 s of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from b2bsync.sandbox.b2b.companies import company_of_customer
from b2bsync.sandbox.b2b.extra_fields import ExtraFieldConfig, check_extra_fields
from b2bsync.sandbox.errors import B2BError
from b2bsync.sandbox.models import (
    B2BOrder,
    Company,
    ExtraField,
    Order,
)
from b2bsync.sandbox.world import StoreState

ATTACH_WINDOW = timedelta(seconds=10)
"""`POST /orders` must come within 10 s of the BigCommerce order's creation (order.yaml)."""


ORDER_EXTRA_FIELDS: tuple[ExtraFieldConfig, ...] = (
    ExtraFieldConfig(id=1, field_name="Cost Center", field_type=0, is_required=True),
    ExtraFieldConfig(
        id=2,
        field_name="Delivery Window",
        field_type=3,
        list_of_values=("Morning", "Afternoon", "Evening"),
        default_value="Morning",
    ),
    ExtraFieldConfig(id=3, field_name="Buyer Notes", field_type=1, number_of_rows=4),
)
"""The sandbox store's order extra fields; "Cost Center" is required, so a `PUT /orders/{id}`
must carry it unless the order already has a value."""


def _new_b2b_order(
    state: StoreState,
    order: Order,
    company: Company,
    now: datetime,
    *,
    po_number: str = "",
    extra_fields: Sequence[ExtraField] = (),
    is_invoice_order: bool = False,
    invoice_id: int | None = None,
) -> B2BOrder:
    record = B2BOrder(
        id=state.next_id("b2b_order", 5001),
        bc_order_id=order.id,
        company_id=company.id,
        customer_id=order.customer_id,
        created_at=now,
        updated_at=now,
        po_number=po_number,
        extra_fields=list(extra_fields),
        is_invoice_order=is_invoice_order,
        invoice_id=invoice_id,
    )
    state.b2b_orders[order.id] = record
    return record


def attach_order(state: StoreState, payload: dict[str, Any], now: datetime) -> None:
    """B2B Edition noticing a new BigCommerce order of a company buyer and recording it.

    Payload: `order_id`, `is_invoice_order`, `invoice_id`, optionally `po_number` and
    `extra_fields` (`[{fieldName, fieldValue}]` or `[(name, value)]`). An order that is gone or
    whose buyer left their company gets no record; an order that already has one (attached
    through `POST /orders` in the meantime) keeps it, gaining only the invoice-payment facts.
    """
    order = state.orders.get(int(payload["order_id"]))
    if order is None:
        return
    invoice_id = payload.get("invoice_id")
    is_invoice_order = bool(payload.get("is_invoice_order"))
    existing = state.b2b_orders.get(order.id)
    if existing is not None:
        if is_invoice_order:
            existing.is_invoice_order = True
            existing.invoice_id = int(invoice_id) if invoice_id is not None else None
        return
    company = company_of_customer(state, order.customer_id)
    if company is None:
        return
    _new_b2b_order(
        state,
        order,
        company,
        now,
        po_number=str(payload.get("po_number") or ""),
        extra_fields=_payload_extra_fields(payload.get("extra_fields") or ()),
        is_invoice_order=is_invoice_order,
        invoice_id=int(invoice_id) if invoice_id is not None else None,
    )


def _payload_extra_fields(raw: Iterable[Any]) -> list[ExtraField]:
    fields: list[ExtraField] = []
    for item in raw:
        if isinstance(item, ExtraField):
            fields.append(item)
        elif isinstance(item, Mapping):
            name = item.get("fieldName", item.get("field_name", ""))
            fields.append(
                ExtraField(str(name), str(item.get("fieldValue", item.get("field_value"))))
            )
        else:
            name, value = item
            fields.append(ExtraField(str(name), str(value)))
    return fields


def attach_order_via_api(
    state: StoreState,
    *,
    bc_order_id: int,
    customer_id: int,
    now: datetime,
    po_number: str | None = None,
    extra_fields: Sequence[ExtraField] = (),
) -> B2BOrder:
    """`POST /orders`: add B2B data to a BigCommerce order within 10 s of its creation.

    Past the window, or when B2B Edition already holds the order, B2B Edition answers 400
    "The order already exists." (order.yaml).
    """
    order = state.orders.get(bc_order_id)
    if order is None:
        raise B2BError(404, "Order Does Not Exist.")
    if bc_order_id in state.b2b_orders or now - order.date_created > ATTACH_WINDOW:
        raise B2BError(400, "The order already exists.")
    if order.customer_id != customer_id:
        raise B2BError(422, "The customer did not place this order.")
    company = company_of_customer(state, customer_id)
    if company is None:
        raise B2BError(422, "The customer does not belong to a company.")
    fields = check_extra_fields(ORDER_EXTRA_FIELDS, extra_fields) if extra_fields else []
    return _new_b2b_order(
        state, order, company, now, po_number=po_number or "", extra_fields=fields
    )


def update_b2b_order(
    state: StoreState,
    record: B2BOrder,
    *,
    now: datetime,
    po_number: str | None = None,
    extra_fields: Sequence[ExtraField] | None = None,
) -> B2BOrder:
    """`PUT /orders/{bcOrderId}`: change the PO number and/or extra fields (not the V2 order)."""
    if po_number is None and extra_fields is None:
        raise B2BError(422, "Either poNumber or extraFields is required.")
    fields = check_extra_fields(ORDER_EXTRA_FIELDS, extra_fields or (), record.extra_fields)
    if po_number is not None:
        record.po_number = po_number
    record.extra_fields = fields
    record.updated_at = max(now, record.updated_at)
    return record


def b2b_order_updated_at(record: B2BOrder, order: Order) -> datetime:
    """A B2B order changes when either its own data or the BigCommerce order changes."""
    return max(record.updated_at, order.date_modified)
