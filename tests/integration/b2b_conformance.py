"""Spec file names of the B2B Edition APIs, for `tests.contract.openapi.conforms`."""

from tests.contract.openapi import conforms

B2B = "b2b-edition/"
ORDERS = B2B + "order__order.yaml"
COMPANIES = B2B + "company__company.yaml"
INVOICE_PORTAL = B2B + "invoice-management.yaml"
IP_CONFIG = B2B + "invoice_management__config__config.yaml"

__all__ = ["COMPANIES", "INVOICE_PORTAL", "IP_CONFIG", "ORDERS", "conforms"]
