"""Pure translation from the client's wire models to b2bsync's domain and cache rows.

A V2 order becomes a *draft* (an `OrderRecord` of type `unclassified` without B2B data or
invoice links); `compose` adds what the signal caches know once the order is classified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from b2bsync.bigcommerce.models import Address as WireAddress
from b2bsync.bigcommerce.models import Metafield, Order, OrderProduct
from b2bsync.bigcommerce.models.b2b import B2BOrder, Company, Invoice, Payment
from b2bsync.domain.classification import Signals
from b2bsync.domain.order_type import ORDER_TYPE_METAFIELD_KEY, OrderType
from b2bsync.domain.origin import origin_of
from b2bsync.domain.records import Address, B2BInfo, InvoiceLink, InvoiceRole, LineItem, OrderRecord
from b2bsync.store.ledger import ObservedOrder
from b2bsync.store.signals import (
    B2BOrderSignal,
    CompanyRow,
    InvoiceRow,
    MetafieldSignal,
    PaymentLineRow,
    PaymentRow,
    SignalBundle,
)

__all__ = [
    "b2b_order_signal",
    "company_row",
    "compose",
    "draft_from_order",
    "invoice_row",
    "lines_are_payment_product",
    "metafield_signal",
    "observed",
    "payment_product_id",
    "payment_row",
    "signals_for",
]


def _address(wire: WireAddress | Mapping[str, Any]) -> Address:
    source = wire if isinstance(wire, WireAddress) else WireAddress.model_validate(wire)
    return Address(
        first_name=source.first_name,
        last_name=source.last_name,
        company=source.company,
        street_1=source.street_1,
        street_2=source.street_2,
        city=source.city,
        state=source.state,
        zip=source.zip,
        country=source.country,
        country_iso2=source.country_iso2,
        phone=source.phone,
        email=source.email,
    )


def _line(product: OrderProduct) -> LineItem:
    return LineItem(
        id=product.id,
        product_id=product.product_id,
        variant_id=product.variant_id or None,
        sku=product.sku,
        name=product.name,
        type=product.type,
        quantity=product.quantity,
        quantity_shipped=product.quantity_shipped,
        price_ex_tax=product.price_ex_tax,
        price_inc_tax=product.price_inc_tax,
        total_ex_tax=product.total_ex_tax,
        total_inc_tax=product.total_inc_tax,
    )


def _expanded_lines(raw: Any) -> list[LineItem]:
    """Line items of one consignment; links (`{url, resource}`) are not lines."""
    if not isinstance(raw, list):
        return []
    lines = []
    for item in raw:
        if isinstance(item, dict) and "id" in item and "order_id" in item:
            lines.append(_line(OrderProduct.model_validate(item)))
    return lines


def _consignments(order: Order) -> tuple[tuple[Address, ...], tuple[LineItem, ...]]:
    """Shipping addresses and every line, from `include=consignments.line_items` objects."""
    raw = order.consignments
    if not isinstance(raw, dict):
        return (), ()
    addresses: list[Address] = []
    lines: dict[int, LineItem] = {}
    for consignment in raw.get("shipping") or []:
        if not isinstance(consignment, dict):
            continue
        addresses.append(_address(consignment))
        for line in _expanded_lines(consignment.get("line_items")):
            lines[line.id] = line
    for group in ("downloads", "pickups"):
        for consignment in raw.get(group) or []:
            if isinstance(consignment, dict):
                for line in _expanded_lines(consignment.get("line_items")):
                    lines[line.id] = line
    return tuple(addresses), tuple(lines[key] for key in sorted(lines))


def draft_from_order(store: str, order: Order) -> OrderRecord:
    """The V2 order (fetched with `include=consignments.line_items`, object structure) as an
    unclassified record: lines, billing and shipping addresses, totals, status."""
    addresses, lines = _consignments(order)
    return OrderRecord(
        store=store,
        order_id=order.id,
        order_type=OrderType.UNCLASSIFIED,
        status_id=order.status_id,
        status=order.custom_status or order.status,
        is_archived=order.is_deleted,
        date_created=order.date_created,
        date_modified=order.date_modified,
        customer_id=order.customer_id,
        channel_id=order.channel_id,
        currency=order.currency_code,
        subtotal_ex_tax=order.subtotal_ex_tax,
        subtotal_inc_tax=order.subtotal_inc_tax,
        total_ex_tax=order.total_ex_tax,
        total_inc_tax=order.total_inc_tax,
        total_tax=order.total_tax,
        payment_method=order.payment_method,
        payment_status=order.payment_status,
        external_order_id=order.external_order_id or "",
        external_source=order.external_source or "",
        origin=origin_of(order.external_source or ""),
        customer_message=order.customer_message,
        staff_notes=order.staff_notes,
        billing_address=_address(order.billing_address),
        shipping_addresses=addresses,
        line_items=lines,
    )


def _company_id(bundle: SignalBundle) -> int | None:
    if bundle.signal is not None and bundle.signal.company_id is not None:
        return bundle.signal.company_id
    return bundle.payment.company_id if bundle.payment is not None else None


def _b2b_info(bundle: SignalBundle, order_type: OrderType) -> B2BInfo | None:
    company_id = _company_id(bundle)
    if company_id is None:
        return None
    signal = bundle.signal
    paid_by = bundle.payment if order_type is OrderType.INVOICE_PAYMENT else None
    return B2BInfo(
        company_id=company_id,
        company_name=bundle.company.name if bundle.company is not None else "",
        b2b_order_id=signal.b2b_order_id if signal is not None else None,
        po_number=signal.po_number if signal is not None else "",
        extra_fields=dict(signal.extra_fields) if signal is not None else {},
        payment_id=paid_by.payment_id if paid_by is not None else None,
    )


def _invoice_links(bundle: SignalBundle, order_type: OrderType) -> tuple[InvoiceLink, ...]:
    if order_type is OrderType.INVOICE_PAYMENT:
        payment = bundle.payment
        if payment is None:
            return ()
        links = []
        for line in payment.lines:
            invoice = bundle.paid_invoices.get(line.invoice_id)
            links.append(
                InvoiceLink(
                    invoice_id=line.invoice_id,
                    invoice_number=line.invoice_number or (invoice.number if invoice else ""),
                    role=InvoiceRole.PAID_BY_ORDER,
                    amount=line.amount,
                    currency=payment.currency,
                    open_balance=invoice.open_balance if invoice is not None else None,
                )
            )
        return tuple(sorted(links, key=lambda link: link.invoice_id))
    return tuple(
        InvoiceLink(
            invoice_id=invoice.invoice_id,
            invoice_number=invoice.number,
            role=InvoiceRole.CREATED_FROM_ORDER,
            currency=invoice.currency,
            open_balance=invoice.open_balance,
        )
        for invoice in bundle.billed_by
    )


def compose(draft: OrderRecord, bundle: SignalBundle, order_type: OrderType) -> OrderRecord:
    """The record destinations receive: the draft plus its type, B2B data and invoice links.

    An invoice payment links the invoices its payment settles (amount applied, open balance as
    last seen); any other order links the invoices created from it.
    """
    return draft.model_copy(
        update={
            "order_type": order_type,
            "b2b": _b2b_info(bundle, order_type),
            "invoices": _invoice_links(bundle, order_type),
        }
    )


def observed(draft: OrderRecord, bundle: SignalBundle) -> ObservedOrder:
    """What the ledger shows of an order that is not classified yet."""
    signal = bundle.signal
    return ObservedOrder(
        order_id=draft.order_id,
        status_id=draft.status_id,
        date_created=draft.date_created,
        date_modified=draft.date_modified,
        status=draft.status,
        is_archived=draft.is_archived,
        company_id=_company_id(bundle),
        po_number=signal.po_number if signal is not None else "",
        invoice_ids=tuple(invoice.invoice_id for invoice in bundle.billed_by),
    )


def lines_are_payment_product(draft: OrderRecord, product_id: int) -> bool | None:
    """True when every line is the Invoice Portal payment product, False when none is, None
    when the lines are mixed or there are none."""
    matches = {line.product_id == product_id for line in draft.line_items}
    return matches.pop() if len(matches) == 1 else None


def signals_for(
    bundle: SignalBundle, stored: Signals, payment_product: bool | None = None
) -> Signals:
    """The order's signals: the caches first, then what the ledger kept from earlier checks."""
    signal = bundle.signal
    metafield = signal.metafield_value if signal is not None else None
    is_invoice = signal.is_invoice_order if signal is not None else None
    return Signals(
        metafield_value=metafield if metafield is not None else stored.metafield_value,
        b2b_is_invoice_order=is_invoice if is_invoice is not None else stored.b2b_is_invoice_order,
        lines_are_payment_product=(
            payment_product if payment_product is not None else stored.lines_are_payment_product
        ),
    )


def metafield_signal(metafield: Metafield) -> MetafieldSignal | None:
    """The `orderType` metafield of an order (any namespace); None for other metafields."""
    if metafield.key != ORDER_TYPE_METAFIELD_KEY or metafield.resource_type != "order":
        return None
    return MetafieldSignal(
        order_id=metafield.resource_id, value=metafield.value, namespace=metafield.namespace
    )


def b2b_order_signal(order: B2BOrder) -> B2BOrderSignal:
    """A B2B Edition order record (list item or detail) as a cache row."""
    return B2BOrderSignal(
        order_id=order.bc_order_id,
        b2b_order_id=order.id,
        company_id=order.company_id,
        po_number=order.po_number or "",
        extra_fields={field.field_name: field.field_value or "" for field in order.extra_fields},
        is_invoice_order=bool(order.is_invoice_order)
        if order.is_invoice_order is not None
        else None,
    )


def company_row(company: Company) -> CompanyRow:
    """A company as a cache row."""
    return CompanyRow(company.company_id, company.company_name, company.updated_at)


def invoice_row(invoice: Invoice) -> InvoiceRow:
    """An invoice as a cache row (`customerId` of an invoice is the company id)."""
    order_number = (invoice.order_number or "").strip() or None
    return InvoiceRow(
        invoice_id=invoice.id,
        number=invoice.invoice_number,
        order_number=order_number,
        company_id=invoice.customer_id,
        status=invoice.status,
        currency=invoice.open_balance.code or invoice.original_balance.code,
        original_balance=invoice.original_balance.value,
        open_balance=invoice.open_balance.value,
        updated_at=invoice.updated_at,
    )


def payment_row(payment: Payment) -> PaymentRow:
    """A payment as a cache row; `order_id` is the BigCommerce order of a checkout payment."""
    return PaymentRow(
        payment_id=payment.id,
        order_id=payment.bc_order_id,
        company_id=payment.customer_id,
        module_name=payment.module_name,
        processing_status=payment.processing_status,
        currency=payment.total.code,
        total=payment.total.value,
        lines=tuple(
            PaymentLineRow(
                invoice_id=line.invoice_id,
                invoice_number=line.invoice_number or "",
                amount=line.amount.value,
            )
            for line in payment.line_items
        ),
        updated_at=payment.updated_at,
    )


def payment_product_id(ip_config: Mapping[str, Any]) -> int | None:
    """The catalog product of invoice-payment checkouts, from `/ip/config`; None if absent."""
    section = ip_config.get("paymentsBigcommerceSalesOrder")
    if not isinstance(section, dict):
        return None
    try:
        value = int(section.get("productId") or 0)
    except (TypeError, ValueError):
        return None
    return value or None
