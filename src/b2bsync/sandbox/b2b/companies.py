"""B2B Edition companies, the state behind `routes/b2b_companies.py`: each company buys through its
own customer group (Independent Companies behaviour) and its buyers are BigCommerce customers."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from b2bsync.sandbox.models import (
    Company,
    ExtraField,
)
from b2bsync.sandbox.world import StoreState

CHANNEL_NAMES: Mapping[int, str] = {1: "Default Storefront"}


def channel_name(channel_id: int) -> str:
    """The storefront channel's display name."""
    return CHANNEL_NAMES.get(channel_id, f"Channel {channel_id}")


def create_company(
    state: StoreState,
    *,
    name: str,
    now: datetime,
    email: str = "",
    phone: str = "",
    status: int = 1,
    address_line1: str = "",
    city: str = "",
    region: str = "",
    zip_code: str = "",
    country: str = "US",
    external_uuid: str | None = None,
    extra_fields: Sequence[ExtraField] = (),
) -> Company:
    """Register a company with its own customer group (Independent Companies behaviour).

    `region` is the company address's state or province; `external_uuid` its ERP id (a UUID,
    drawn from the store's rng when not given, so seeded worlds stay reproducible).
    """
    company_id = state.next_id("company", 1001)
    group_id = state.next_id("customer_group", 1)
    # An email's domain is ASCII (the spec's `format: email`): "Cafés" becomes "cafes".
    folded = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
    slug = "".join(ch for ch in folded if ch.isalnum()) or f"company{company_id}"
    company = Company(
        id=company_id,
        name=name,
        email=email or f"accounts@{slug}.example.com",
        phone=phone,
        status=status,
        bc_group_id=group_id,
        bc_group_name=name,
        address_line1=address_line1,
        city=city,
        state=region,
        zip_code=zip_code,
        country=country,
        created_at=now,
        updated_at=now,
        uuid=external_uuid or str(uuid.UUID(int=state.rng.getrandbits(128), version=4)),
        extra_fields=list(extra_fields),
    )
    state.companies[company.id] = company
    return company


def company_of_customer(state: StoreState, customer_id: int) -> Company | None:
    """The company a BigCommerce customer buys for, if any."""
    customer = state.customers.get(customer_id)
    if customer is None or customer.company_id is None:
        return None
    return state.companies.get(customer.company_id)
