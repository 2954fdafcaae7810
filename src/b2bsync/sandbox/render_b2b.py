"""Stored entities as B2B Edition puts them on the wire (order.yaml, company.yaml,
invoice-management.yaml, config.yaml).

Pure functions of the stored state. B2B Edition's types are uneven and kept as the specs state
them: unix seconds are numbers on orders and payments but strings on invoice and company
timestamps; money is `{code, value}` with a 4-decimal string value on invoices, payments and
receipts, and a plain number (`totalIncTax`) on orders; ids of companies are strings wherever
an invoice or payment calls them `customerId`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from b2bsync.sandbox import orders
from b2bsync.sandbox.b2b.companies import channel_name
from b2bsync.sandbox.b2b.extra_fields import ExtraFieldConfig
from b2bsync.sandbox.b2b.orders import b2b_order_updated_at
from b2bsync.sandbox.b2b.payments import (
    COMPLETED,
    MODULE_BC_SALES_ORDER,
    allowed_operations,
    allowed_statuses,
)
from b2bsync.sandbox.models import (
    B2BOrder,
    Company,
    ExtraField,
    Invoice,
    Money,
    Order,
    OrderProduct,
    Payment,
    Receipt,
    ReceiptLine,
)
from b2bsync.sandbox.world import StoreState

_CURRENCY_TOKENS: Mapping[str, str] = {"USD": "$", "CAD": "$", "AUD": "$", "EUR": "€", "GBP": "£"}
_LEGACY_EXTRA = (
    *(f"extraInt{n}" for n in range(1, 6)),
    *(f"extraStr{n}" for n in range(1, 6)),
    "extraText",
)


def unix(moment: datetime) -> int:
    """Unix seconds, B2B Edition's timestamp."""
    return int(moment.timestamp())


def money(value: Money) -> dict[str, str]:
    """Invoice-portal money: `{code, value}` with the value a 4-decimal string."""
    return {"code": value.code, "value": f"{value.value.quantize(Decimal('0.0001'))}"}


def extra_fields(fields: list[ExtraField]) -> list[dict[str, str]]:
    """`[{fieldName, fieldValue}]`."""
    return [{"fieldName": f.field_name, "fieldValue": f.field_value} for f in fields]


# --- companies ------------------------------------------------------------------------------


def company(value: Company, *, in_list: bool, include_extra_fields: bool) -> dict[str, Any]:
    """A company as `GET /companies` (`in_list`) or `GET /companies/{id}` shows it.

    The spec types `bcGroupId` as an integer in the list and a string in the detail.
    """
    rendered: dict[str, Any] = {
        "companyId": value.id,
        "companyName": value.name,
        "companyEmail": value.email,
        "companyPhone": value.phone,
        "companyStatus": str(value.status),
        "bcGroupId": value.bc_group_id if in_list else str(value.bc_group_id),
        "bcGroupName": value.bc_group_name,
        "catalogId": "",
        "catalogName": "",
        "priceListAssign": [],
        "uuid": value.uuid,
        "addressLine1": value.address_line1,
        "addressLine2": "",
        "city": value.city,
        "state": value.state,
        "zipCode": value.zip_code,
        "country": value.country,
        "createdAt": str(unix(value.created_at)),
        "updatedAt": str(unix(value.updated_at)),
    }
    if include_extra_fields or not in_list:
        rendered["extraFields"] = extra_fields(value.extra_fields)
    return rendered


# --- orders ---------------------------------------------------------------------------------


def _currency_format(code: str) -> dict[str, Any]:
    return {
        "currencyLocation": "left",
        "currencyToken": _CURRENCY_TOKENS.get(code, code),
        "decimalToken": ".",
        "decimalPlaces": 2,
        "thousandsToken": ",",
    }


def order(
    state: StoreState,
    record: B2BOrder,
    source: Order,
    *,
    detail: bool = False,
    show_extra: bool = False,
) -> dict[str, Any]:
    """A B2B order (`orderData_ALL`, or `orderData_DETAIL` with `detail`), its commercial
    fields taken from the V2 order it describes."""
    total = float(orders.total_inc_tax(source))
    rendered: dict[str, Any] = {
        "id": record.id,
        "bcOrderId": source.id,
        "totalIncTax": total,
        "poNumber": record.po_number,
        "status": orders.ORDER_STATUSES[source.status_id].name,
        "customStatus": orders.custom_label(state, source.status_id),
        "cartId": source.cart_id,
        "items": orders.items_total(source),
        "usdIncTax": total,
        "companyId": record.company_id,
        "currencyCode": source.currency_code,
        "money": [_currency_format(source.currency_code)],
        "statusCode": source.status_id,
        "isArchived": record.is_archived or source.is_deleted,
        "channelId": source.channel_id,
        "channelName": channel_name(source.channel_id),
        "createdAt": unix(source.date_created),
        "updatedAt": unix(b2b_order_updated_at(record, source)),
    }
    if detail:
        invoice = state.invoices.get(record.invoice_id) if record.invoice_id else None
        rendered["isInvoiceOrder"] = int(record.is_invoice_order)
        rendered["invoiceId"] = record.invoice_id
        rendered["invoiceNumber"] = _invoice_number_as_int(invoice) if invoice else None
        rendered["invoiceStatus"] = invoice.status if invoice else None
    if detail or show_extra:
        rendered.update(dict.fromkeys(_LEGACY_EXTRA))
        rendered["extraInfo"] = [{"billingAddressId": 0, "shippingAddressId": 0}]
        rendered["extraFields"] = extra_fields(record.extra_fields)
    return rendered


def _invoice_number_as_int(invoice: Invoice) -> int | None:
    # order.yaml types the detail's invoiceNumber as an integer while invoice numbers are
    # strings; a non-numeric one cannot be given in that type (invoiceId still links it).
    number = invoice.invoice_number
    return int(number) if number.isdigit() else None


def order_product(product: OrderProduct, source: Order) -> dict[str, Any]:
    """A line of `GET /orders/{bcOrderId}/products` (no prices: those live in V2)."""
    return {
        "id": product.id,
        "productId": product.product_id,
        "productName": product.name,
        "variantSku": product.sku,
        "variantId": product.variant_id,
        "productBrandName": product.brand,
        "quantity": product.quantity,
        "options": [],
        "createdAt": unix(source.date_created),
        "updatedAt": unix(source.date_modified),
    }


def order_extra_field_config(config: ExtraFieldConfig) -> dict[str, Any]:
    """An entry of `GET /orders/extra-fields` (numbers typed as numbers)."""
    return {
        "id": config.id,
        "uuid": config.id,
        "fieldName": config.field_name,
        "fieldType": config.field_type,
        "isRequired": config.is_required,
        "isUnique": config.is_unique,
        "visibleToEnduser": config.visible_to_enduser,
        "configType": config.config_type,
        "defaultValue": config.default_value,
        "labelName": config.field_name,
        "maximumLength": config.maximum_length,
        "numberOfRows": config.number_of_rows,
        "maximumValue": config.maximum_value,
        "listOfValues": list(config.list_of_values),
    }


# --- invoice portal -------------------------------------------------------------------------


def invoice_extra_field_config(config: ExtraFieldConfig) -> dict[str, Any]:
    """An entry of `GET /ip/invoices/extra-fields` (the spec types the limits as strings and
    names the dropdown values `listOfValue`)."""
    return {
        "id": config.id,
        "uuid": str(config.id),
        "fieldName": config.field_name,
        "fieldType": config.field_type,
        "isRequired": config.is_required,
        "isUnique": config.is_unique,
        "visibleToEnduser": config.visible_to_enduser,
        "configType": config.config_type,
        "defaultValue": config.default_value,
        "maximumLength": str(config.maximum_length),
        "numberOfRows": str(config.number_of_rows),
        "maximumValue": str(config.maximum_value),
        "listOfValue": list(config.list_of_values),
    }


def _company_name(state: StoreState, company_id: int) -> str:
    found = state.companies.get(company_id)
    return found.name if found else ""


def invoice(state: StoreState, value: Invoice, *, include_extra_fields: bool) -> dict[str, Any]:
    """An invoice as `GET /ip/invoices[/{id}]` shows it."""
    rendered: dict[str, Any] = {
        "id": value.id,
        "invoiceNumber": value.invoice_number,
        "type": value.type,
        "dueDate": unix(value.due_date),
        "status": value.status,
        "orderNumber": value.order_number,
        "purchaseOrderNumber": value.purchase_order_number,
        "customerId": str(value.customer_id),
        "customerName": _company_name(state, value.customer_id),
        "externalId": value.external_id or "",
        "externalCustomerId": value.external_customer_id or "",
        "source": value.source,
        "isPendingPayment": 1 if value.pending_payment_count else 0,
        "originalBalance": money(value.original_balance),
        "openBalance": money(value.open_balance),
        "channelId": str(value.channel_id),
        "channelName": channel_name(value.channel_id),
        "termsConditions": value.terms_conditions,
        "createdAt": str(unix(value.created_at)),
        "updatedAt": str(unix(value.updated_at)),
    }
    if value.details:
        rendered["details"] = value.details
    if include_extra_fields:
        rendered["extraFields"] = extra_fields(value.extra_fields)
    return rendered


def payment(state: StoreState, value: Payment) -> dict[str, Any]:
    """An invoice payment as `GET /ip/payments[/{id}]` shows it."""
    return {
        "id": value.id,
        "createdAt": unix(value.created_at),
        "updatedAt": unix(value.updated_at),
        "storeHash": state.store_hash,
        "customerId": str(value.customer_id),
        "customerName": _company_name(state, value.customer_id),
        "externalId": value.external_id,
        "externalCustomerId": value.external_customer_id,
        "payerName": value.payer_name,
        "payerCustomerId": value.payer_customer_id,
        "details": {"memo": value.memo},
        "moduleName": value.module_name,
        "fees": [],
        "moduleData": value.module_data,
        "processingStatus": value.processing_status,
        "appliedStatus": value.applied_status,
        "fundingStatus": value.funding_status,
        "total": money(value.total),
        "lineItems": [
            {
                "paymentId": value.id,
                "invoiceId": line.invoice_id,
                "invoiceNumber": line.invoice_number,
                "amount": money(line.amount),
            }
            for line in value.line_items
        ],
        "allowedOperations": allowed_operations(value),
        "allowedStatuses": allowed_statuses(value),
        "channelId": str(value.channel_id),
        "channelName": channel_name(value.channel_id),
    }


def receipt(state: StoreState, value: Receipt) -> dict[str, Any]:
    """A receipt as `GET /ip/receipts[/{id}]` shows it."""
    return {
        "id": value.id,
        "createdAt": unix(value.created_at),
        "updatedAt": unix(value.updated_at),
        "storeHash": state.store_hash,
        "customerId": str(value.customer_id),
        "externalId": value.external_id,
        "externalCustomerId": value.external_customer_id,
        "payerName": value.payer_name,
        "payerCustomerId": value.payer_customer_id,
        "details": {"paymentDetails": {"memo": value.memo}},
        "transactionType": value.transaction_type,
        "paymentType": value.payment_type,
        "referenceNumber": value.reference_number,
        "paymentId": value.payment_id,
        "total": money(value.total),
    }


def receipt_line(state: StoreState, parent: Receipt, line: ReceiptLine) -> dict[str, Any]:
    """A receipt line; payer, references and the payment's status come from its receipt."""
    paid_by = state.payments.get(parent.payment_id)
    return {
        "id": line.id,
        "createdAt": unix(line.created_at),
        "updatedAt": unix(line.updated_at),
        "storeHash": state.store_hash,
        "customerId": str(parent.customer_id),
        "externalId": parent.external_id,
        "externalCustomerId": parent.external_customer_id,
        "receiptId": parent.id,
        "invoiceId": line.invoice_id,
        "invoiceNumber": line.invoice_number,
        "amount": money(line.amount),
        "paymentStatus": paid_by.processing_status if paid_by else COMPLETED,
        "paymentType": parent.payment_type,
        "paymentId": parent.payment_id,
        "referenceNumber": parent.reference_number,
        "transactionType": parent.transaction_type,
    }


def ip_config(state: StoreState) -> dict[str, Any]:
    """`GET /ip/config`: the Invoice Portal settings; `paymentsBigcommerceSalesOrder` names the
    catalog product the invoice-payment checkout puts on its order."""
    product = state.catalog.get(state.invoice_payment_product_id)
    return {
        "allMethods": [
            {"code": "payments_offline", "name": "Offline", "testMode": False},
            {"code": MODULE_BC_SALES_ORDER, "name": "Pay with BigCommerce", "testMode": False},
        ],
        "invoiceEmailTemplate": {"html": "", "isEnabled": 0},
        "isPaymentProcessingEnabled": {"isEnabled": 1, "isStorefrontMethod": 1},
        "payments": {
            "paymentHoldPolicy": 0,
            "generalPaymentFees": [],
            "statusAfterPaymentIsMade": COMPLETED,
            "invoiceBalanceUpdatePolicy": 0,
            "onlinePaymentAutomaticInvoiceGeneration": 0,
            "offlinePaymentAutomaticInvoiceGeneration": 0,
        },
        "paymentsBigcommerceSalesOrder": {
            "isEnabled": 1,
            "productId": product.id if product else 0,
            "variantId": product.variant_id if product else 0,
            "displayName": "Pay with BigCommerce",
            "allowedMethods": [],
            "isStorefrontMethod": 1,
        },
        "paymentsMinibc": {
            "apiKey": "minibc-not-configured",
            "rootUrl": "https://minibc.sandbox.invalid",
            "isEnabled": 0,
            "displayName": "MiniBC",
            "authorizeOnly": 0,
            "isStorefrontMethod": 0,
        },
        "paymentsOffline": {"isEnabled": 1, "displayName": "Offline", "isStorefrontMethod": 0},
        "paymentsTest": {"isEnabled": 0, "displayName": "Test", "isStorefrontMethod": 0},
        "storesBundleb2b": {
            "apiKey": "bundleb2b-not-configured",
            "isEnabled": 1,
            "internalEmail": "b2b-edition@sandbox.invalid",
            "internalPassword": "********",
        },
    }
