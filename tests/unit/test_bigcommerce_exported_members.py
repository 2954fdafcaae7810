"""The public surface of `b2bsync.bigcommerce` is listed here exactly, so it changes only on
purpose (as httpx's tests/test_exported_members.py does): adding, removing or renaming a public
name fails this test until the list below says so too."""

from __future__ import annotations

import types

import b2bsync.bigcommerce
import b2bsync.bigcommerce.models

PUBLIC = [
    "DEFAULT_API_URL",
    "DEFAULT_B2B_API_URL",
    "ENV_NAMES",
    "PLAN_BUDGETS",
    "ApiHttp",
    "ApiResponse",
    "BadPayload",
    "BadRequest",
    "BigCommerceClient",
    "BigCommerceError",
    "BigCommerceSettings",
    "Conflict",
    "Family",
    "FatalError",
    "Governor",
    "GovernorRegistry",
    "GovernorSnapshot",
    "NotFound",
    "OrderPage",
    "RateBudget",
    "RateLimited",
    "Rejects",
    "RequestGate",
    "RetriableError",
    "RetryPolicy",
    "ServerError",
    "TransportFailure",
    "Unauthorized",
    "ValidationFailed",
    "WindowReading",
    "b2b_pages",
    "default_registry",
    "gated",
    "parse_rate_budget",
    "rejection",
    "v2_pages",
    "v3_pages",
]

MODELS = [
    "Address",
    "Amount",
    "B2BOrder",
    "B2BOrderProduct",
    "BatchResult",
    "Company",
    "ExtraField",
    "ExtraFieldConfig",
    "HooksAdmin",
    "Invoice",
    "InvoiceCreated",
    "Metafield",
    "Order",
    "OrderCount",
    "OrderProduct",
    "OrderShippingAddress",
    "OrderStatus",
    "Payment",
    "PaymentLine",
    "PaymentOperations",
    "Receipt",
    "ReceiptLine",
    "Shipment",
    "ShipmentItem",
    "StatusCount",
    "Webhook",
]


def _public_names(package: types.ModuleType) -> set[str]:
    """Names the package binds that are neither private nor its own submodules."""
    return {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }


def test_the_client_exports_exactly_its_public_surface() -> None:
    assert b2bsync.bigcommerce.__all__ == PUBLIC
    assert _public_names(b2bsync.bigcommerce) == set(PUBLIC)


def test_the_models_export_exactly_the_response_models() -> None:
    assert b2bsync.bigcommerce.models.__all__ == MODELS
    assert _public_names(b2bsync.bigcommerce.models) == set(MODELS)
