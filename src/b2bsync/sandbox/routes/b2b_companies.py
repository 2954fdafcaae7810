"""B2B Edition companies: `GET /companies` and `GET /companies/{companyId}` (company.yaml)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from b2bsync.sandbox import render_b2b
from b2bsync.sandbox.b2b.companies import company_of_customer
from b2bsync.sandbox.errors import B2BError
from b2bsync.sandbox.models import Company
from b2bsync.sandbox.responses import b2b_response
from b2bsync.sandbox.routes.b2b_common import (
    Query,
    contains,
    page_of,
    path_int,
    sort_in_place,
)
from b2bsync.sandbox.routes.endpoint import Context, endpoint


def _extra_field_filter(raw: str, exact: bool) -> tuple[str, str]:
    name, separator, value = raw.partition(":")
    if not separator or not name:
        raise B2BError(422, "extraFields filters are written name:value")
    return name, value if exact else value.lower()


def _matches_extra(company: Company, name: str, value: str, exact: bool) -> bool:
    return any(
        field.field_name == name
        and (field.field_value == value if exact else value in field.field_value.lower())
        for field in company.extra_fields
    )


@endpoint
async def list_companies(request: Request, ctx: Context) -> Response:
    """`GET /companies` with its filters, sorted by `updatedAt` (default) or `companyName`."""
    state = ctx.state
    query = Query(request)
    offset, limit = query.page()
    min_modified, max_modified = query.moment("minModified"), query.moment("maxModified")
    min_created, max_created = query.moment("minCreated"), query.moment("maxCreated")
    status = query.integer("companyStatus")
    if status is not None and status not in (0, 1, 2, 3):
        raise B2BError(422, "companyStatus must be 0, 1, 2 or 3")
    text = query.text("q")
    group = query.text("bcGroupId")
    exact = query.choice("extraFieldFilterType", ("search", "exact-match"), "search") == (
        "exact-match"
    )
    wanted_extra = [_extra_field_filter(raw, exact) for raw in query.texts("extraFields")]
    include_extra = query.choice("isIncludeExtraFields", ("0", "1"), "0") == "1"
    sort_by = query.choice("sortBy", ("companyName", "updatedAt"), "updatedAt")
    order_by = query.choice("orderBy", ("ASC", "DESC"), "DESC")

    only: set[int] | None = None
    bc_order_id = query.integer("bcOrderId")
    order_text = query.text("orderId")
    if order_text is not None and not order_text.isdigit():
        raise B2BError(422, "orderId must be a BigCommerce order id")
    for order_id in (bc_order_id, int(order_text) if order_text else None):
        if order_id is None:
            continue
        record = state.b2b_orders.get(order_id)
        ids = {record.company_id} if record else set()
        only = ids if only is None else only & ids
    customer_id = query.integer("customerId")
    if customer_id is not None:
        found = company_of_customer(state, customer_id)
        ids = {found.id} if found else set()
        only = ids if only is None else only & ids

    companies = [
        company
        for company in state.companies.values()
        if (only is None or company.id in only)
        and (status is None or company.status == status)
        and (text is None or contains(company.name, text))
        and (group is None or str(company.bc_group_id) == group)
        and (min_modified is None or company.updated_at >= min_modified)
        and (max_modified is None or company.updated_at <= max_modified)
        and (min_created is None or company.created_at >= min_created)
        and (max_created is None or company.created_at <= max_created)
        and all(_matches_extra(company, name, value, exact) for name, value in wanted_extra)
    ]
    companies.sort(key=lambda company: company.id)
    if sort_by == "companyName":
        sort_in_place(companies, lambda company: company.name.lower(), order_by)
    else:
        sort_in_place(companies, lambda company: company.updated_at, order_by)
    return page_of(
        companies,
        offset,
        limit,
        lambda company: render_b2b.company(
            company, in_list=True, include_extra_fields=include_extra
        ),
    )


@endpoint
async def get_company(request: Request, ctx: Context) -> Response:
    """`GET /companies/{companyId}`."""
    company_id = path_int(request, "companyId", "Company does not exist")
    company = ctx.state.companies.get(company_id)
    if company is None:
        raise B2BError(404, "Company does not exist")
    return b2b_response(render_b2b.company(company, in_list=False, include_extra_fields=True))


routes: list[BaseRoute] = [
    Route("/companies", list_companies, methods=["GET"]),
    Route("/companies/{companyId}", get_company, methods=["GET"]),
]
