"""The client against the sandbox on loopback: every V3 and B2B Edition endpoint the sandbox
serves, each answer also checked against the official OpenAPI specs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest

from b2bsync.bigcommerce import (
    BadRequest,
    BigCommerceClient,
    Conflict,
    GovernorRegistry,
    NotFound,
    RetryPolicy,
)
from tests.contract.openapi import assert_response_conforms
from tests.integration.b2b_conformance import COMPANIES, INVOICE_PORTAL, IP_CONFIG, ORDERS
from tests.sandbox_server import RunningSandbox

FAST = RetryPolicy(attempts=3, timeout_s=10, wait_initial_s=0.01, wait_max_s=0.05)


def spec_for(url: httpx2.URL) -> tuple[str, str]:
    """(spec file, path relative to the spec's server) for a sandbox URL."""
    path = url.path
    if path.startswith("/b2b/api/v3/io"):
        rest = path.removeprefix("/b2b/api/v3/io")
        if rest.startswith("/ip/config"):
            return IP_CONFIG, rest.removeprefix("/ip")
        if rest.startswith("/ip/"):
            return INVOICE_PORTAL, rest.removeprefix("/ip")
        if rest.startswith("/companies"):
            return COMPANIES, rest
        return ORDERS, rest
    _, _, _, version, rest = path.split("/", 4)
    rest = "/" + rest
    if version == "v2":
        return "orders.v2.oas2.yml", rest
    if rest.startswith("/hooks"):
        return "webhooks.v3.yml", rest
    return "orders.v3.yml", rest


def check_conformance(responses: list[httpx2.Response]) -> int:
    """Validate every recorded answer against its spec; return how many were checked."""
    for response in responses:
        spec, path = spec_for(response.request.url)
        method = response.request.method
        assert_response_conforms(spec, method, path, response)
    checked = len(responses)
    responses.clear()
    return checked


@pytest.fixture
async def recorded() -> list[httpx2.Response]:
    return []


@pytest.fixture
async def client(
    sandbox: RunningSandbox, recorded: list[httpx2.Response]
) -> AsyncIterator[BigCommerceClient]:
    async def keep(response: httpx2.Response) -> None:
        recorded.append(response)

    async with httpx2.AsyncClient(event_hooks={"response": [keep]}) as http:
        yield BigCommerceClient(
            store_hash=sandbox.config.store_hash,
            access_token=sandbox.config.token,
            api_url=sandbox.base_url,
            b2b_api_url=sandbox.base_url + "/b2b",
            http_client=http,
            retry=FAST,
            governors=GovernorRegistry(),
        )


def store_of(sandbox: RunningSandbox) -> Any:
    return sandbox.world.store(sandbox.config.store_hash)


# B2B Edition: companies and orders


async def test_companies_page_by_offset_and_match_the_detail(
    client: BigCommerceClient, sandbox: RunningSandbox, recorded: list[httpx2.Response]
) -> None:
    companies = [company async for company in client.b2b.companies(page_size=2)]
    assert len(companies) == len(store_of(sandbox).companies)
    assert len({company.company_id for company in companies}) == len(companies)
    detail = await client.b2b.company(companies[0].company_id)
    assert detail.company_name == companies[0].company_name
    assert detail.created_at is not None
    assert detail.created_at.tzinfo is UTC
    assert check_conformance(recorded) >= 4
    # The B2B governor learned the per-minute window from `X-Requests-*` headers.
    snapshot = client.b2b_http.governor.snapshot()
    assert (snapshot.quota, snapshot.window_s) == (150, 60.0)
    assert snapshot.left is not None
    assert snapshot.left < 150


async def test_b2b_orders_list_detail_products_and_update(
    client: BigCommerceClient, sandbox: RunningSandbox, recorded: list[httpx2.Response]
) -> None:
    orders = [order async for order in client.b2b.orders(page_size=10)]
    assert orders
    assert len({order.bc_order_id for order in orders}) == len(orders)
    invoice_orders = [(await client.b2b.order(order.bc_order_id)) for order in orders[:8]]
    kinds = {detail.is_invoice_order for detail in invoice_orders}
    assert kinds <= {0, 1}
    paid_by_checkout = [d for d in invoice_orders if d.is_invoice_order == 1]
    for detail in paid_by_checkout:
        assert detail.invoice_id is not None
    target = orders[0]
    products = await client.b2b.order_products(target.bc_order_id)
    assert all(product.quantity > 0 for product in products)
    configs = [config async for config in client.b2b.order_extra_fields()]
    assert all(config.field_name for config in configs)
    required = [
        {"fieldName": config.field_name, "fieldValue": str((config.list_of_values or ["CC-1"])[0])}
        for config in configs
        if config.is_required
    ]
    await client.b2b.update_order(
        target.bc_order_id, po_number="PO-CLIENT-1", extra_fields=required
    )
    updated = await client.b2b.order(target.bc_order_id)
    assert updated.po_number == "PO-CLIENT-1"
    assert check_conformance(recorded) >= 5


async def test_b2b_orders_filter_by_modified_time_in_unix_seconds(
    client: BigCommerceClient,
) -> None:
    future = datetime.now(UTC) + timedelta(days=3650)
    assert [order async for order in client.b2b.orders({"minModified": future})] == []


async def test_b2b_unknown_order_is_not_found(client: BigCommerceClient) -> None:
    with pytest.raises(NotFound) as caught:
        await client.b2b.order(987654321)
    assert caught.value.path == "/orders/987654321"
    assert caught.value.server_message


# B2B Edition: invoice portal


async def test_invoices_create_read_update_pdf_delete(
    client: BigCommerceClient, recorded: list[httpx2.Response]
) -> None:
    company = await anext(client.b2b.companies(page_size=2))
    invoice_id = await client.b2b.create_invoice(
        {
            "invoiceNumber": f"CLIENT-{datetime.now(UTC).timestamp():.0f}",
            "originalBalance": {"code": "USD", "value": 120.5},
            "openBalance": {"code": "USD", "value": 120.5},
            "customerId": str(company.company_id),
        }
    )
    invoice = await client.b2b.invoice(invoice_id)
    assert invoice.open_balance.value == Decimal("120.5")
    assert invoice.customer_id == company.company_id
    assert (
        await client.b2b.update_invoice(invoice_id, {"purchaseOrderNumber": "PO-9"}) == invoice_id
    )
    assert (await client.b2b.invoice(invoice_id)).purchase_order_number == "PO-9"
    pdf = await client.b2b.invoice_pdf(invoice_id)
    assert pdf.get("url")
    listed = [inv.id async for inv in client.b2b.invoices({"sortBy": "updatedAt"}, page_size=3)]
    assert invoice_id in listed
    configs = [config async for config in client.b2b.invoice_extra_fields()]
    dropdowns = [config for config in configs if config.field_type == 3]
    assert dropdowns
    # The invoice API names the choices `listOfValue` (orders say `listOfValues`).
    assert all(config.list_of_values for config in dropdowns)
    await client.b2b.delete_invoice(invoice_id)
    check_conformance(recorded)
    with pytest.raises(NotFound):
        await client.b2b.invoice(invoice_id)


async def test_invoice_from_an_order_uses_the_b2b_order_id(
    client: BigCommerceClient, sandbox: RunningSandbox, recorded: list[httpx2.Response]
) -> None:
    invoiced = {int(inv.order_number) async for inv in client.b2b.invoices() if inv.order_number}
    candidates = [
        order
        async for order in client.b2b.orders()
        if order.bc_order_id not in invoiced and order.id is not None
    ]
    for target in candidates:
        if (await client.b2b.order(target.bc_order_id)).is_invoice_order == 0:
            break
    else:
        pytest.fail("every B2B order is invoiced already")
    assert target.id is not None
    created = await client.b2b.invoice_from_order(target.id)
    invoice = await client.b2b.invoice(created.invoice_id)
    assert invoice.order_number == str(target.bc_order_id)
    check_conformance(recorded)


async def test_checkout_payments_link_orders_and_invoices(
    client: BigCommerceClient, recorded: list[httpx2.Response]
) -> None:
    payments = [payment async for payment in client.b2b.payments(page_size=3)]
    checkout = [p for p in payments if p.module_name == "payments_bigcommerce_sales_order"]
    assert checkout, "the seed makes invoice payments through checkout"
    payment = await client.b2b.payment(checkout[0].id)
    assert payment.bc_order_id is not None
    assert payment.line_items
    assert sum(line.amount.value for line in payment.line_items) == payment.total.value
    b2b_order = await client.b2b.order(payment.bc_order_id)
    assert b2b_order.is_invoice_order == 1
    assert b2b_order.invoice_id in {line.invoice_id for line in payment.line_items}
    by_invoice = [
        p.id async for p in client.b2b.payments({"invoiceId": payment.line_items[0].invoice_id})
    ]
    assert payment.id in by_invoice
    operations = await client.b2b.operations(payment.id)
    assert isinstance(operations.allowed_statuses, list)
    await client.b2b.transactions(payment.id)
    check_conformance(recorded)


async def test_offline_payment_lifecycle(
    client: BigCommerceClient, recorded: list[httpx2.Response]
) -> None:
    open_invoices = [
        inv async for inv in client.b2b.invoices() if inv.open_balance.value > Decimal("1")
    ]
    invoice = open_invoices[0]
    payment_id = await client.b2b.create_offline_payment(
        {
            "lineItems": [{"invoiceId": invoice.id, "amount": "1.00"}],
            "currency": "USD",
            "details": {"memo": "client test"},
            "customerId": str(invoice.customer_id),
            "processingStatus": 1,
        }
    )
    payment = await client.b2b.payment(payment_id)
    assert payment.module_name == "payments_offline"
    assert payment.total.value == Decimal("1.00")
    await client.b2b.update_offline_payment(
        payment_id,
        {
            "lineItems": [{"invoiceId": invoice.id, "amount": "1.00"}],
            "currency": "USD",
            "details": {"memo": "edited"},
            "customerId": str(invoice.customer_id),
        },
    )
    assert (await client.b2b.payment(payment_id)).details.get("memo") == "edited"
    allowed = (await client.b2b.operations(payment_id)).allowed_statuses
    target = next(int(s) for s in allowed if int(s) not in (payment.processing_status, 4))
    assert await client.b2b.set_processing_status(payment_id, target) == payment_id
    assert (await client.b2b.payment(payment_id)).processing_status == target
    operations = (await client.b2b.operations(payment_id)).allowed_operations
    await client.b2b.apply_operation(payment_id, int(operations[0]))
    assert (await client.b2b.operations(payment_id)).allowed_operations != operations
    await client.b2b.delete_payment(payment_id)
    check_conformance(recorded)
    with pytest.raises(NotFound):
        await client.b2b.payment(payment_id)


async def test_receipts_and_their_lines(
    client: BigCommerceClient, recorded: list[httpx2.Response]
) -> None:
    receipts = [receipt async for receipt in client.b2b.receipts(page_size=4)]
    assert receipts
    receipt = await client.b2b.receipt(receipts[0].id)
    assert receipt.payment_id is not None
    lines = [line async for line in client.b2b.receipt_lines(receipt_id=receipt.id)]
    assert lines
    assert all(line.receipt_id == receipt.id for line in lines)
    assert sum(line.amount.value for line in lines) == receipt.total.value
    line = await client.b2b.receipt_line(receipt.id, lines[0].id)
    assert line.invoice_id == lines[0].invoice_id
    everything = [line.id async for line in client.b2b.receipt_lines(page_size=5)]
    assert {line.id for line in lines} <= set(everything)
    await client.b2b.delete_receipt_line(receipt.id, line.id)
    check_conformance(recorded)
    with pytest.raises(NotFound):
        await client.b2b.receipt_line(receipt.id, line.id)
    assert recorded.pop().status_code == 404  # a status this spec does not document
    await client.b2b.delete_receipt(receipt.id)
    check_conformance(recorded)
    with pytest.raises(NotFound):
        await client.b2b.receipt(receipt.id)


async def test_invoice_portal_config_names_the_payment_product(
    client: BigCommerceClient, recorded: list[httpx2.Response]
) -> None:
    config = await client.b2b.ip_config()
    assert "productId" in config["paymentsBigcommerceSalesOrder"]
    check_conformance(recorded)


# V3: order metafields and hooks


async def test_order_type_metafields_per_order_and_in_batch(
    client: BigCommerceClient, sandbox: RunningSandbox, recorded: list[httpx2.Response]
) -> None:
    batch = [m async for m in client.metafields.iterate_all({"key": "orderType"}, page_size=7)]
    assert {m.value for m in batch} <= {"online order", "invoice payment"}
    assert len({m.id for m in batch}) == len(batch)
    order_id = batch[0].resource_id
    own = [m async for m in client.metafields.for_order(order_id)]
    assert batch[0].id in {m.id for m in own}
    one = await client.metafields.get(order_id, batch[0].id)
    assert one.date_created is not None
    assert one.date_created.tzinfo is UTC
    assert check_conformance(recorded) >= 3


async def test_metafield_lifecycle_and_conflict(
    client: BigCommerceClient, recorded: list[httpx2.Response]
) -> None:
    order_id = (await anext(client.metafields.iterate_all(page_size=1))).resource_id
    created = await client.metafields.create(
        order_id, key="erpRef", value="A-1", namespace="b2bsync", permission_set="app_only"
    )
    assert (created.resource_id, created.value) == (order_id, "A-1")
    with pytest.raises(Conflict):
        await client.metafields.create(order_id, key="erpRef", value="A-2", namespace="b2bsync")
    updated = await client.metafields.update(order_id, created.id, {"value": "A-3"})
    assert updated.value == "A-3"
    await client.metafields.delete(order_id, created.id)
    check_conformance(recorded)
    with pytest.raises(NotFound):
        await client.metafields.get(order_id, created.id)


async def test_batch_metafield_create_update_delete(
    client: BigCommerceClient, recorded: list[httpx2.Response]
) -> None:
    order_ids = [m.resource_id async for m in client.metafields.iterate_all(page_size=3)][:3]
    result = await client.metafields.create_many(
        [
            {
                "resource_id": oid,
                "key": "batchKey",
                "value": str(oid),
                "namespace": "b2bsync",
                "permission_set": "app_only",
            }
            for oid in order_ids
        ]
    )
    created = result.metafields()
    assert sorted(m.resource_id for m in created) == sorted(order_ids)
    updated = await client.metafields.update_many([{"id": m.id, "value": "v2"} for m in created])
    assert {m.value for m in updated.metafields()} == {"v2"}
    await client.metafields.delete_many([m.id for m in created])
    remaining = [m async for m in client.metafields.iterate_all({"key": "batchKey"})]
    assert remaining == []
    assert check_conformance(recorded) >= 5


async def test_hook_lifecycle_and_admin(
    client: BigCommerceClient, recorded: list[httpx2.Response]
) -> None:
    hook = await client.hooks.create(
        scope="store/order/created",
        destination="https://hooks.example.com/bc",
        headers={"X-Webhook-Token": "shared"},
    )
    assert hook.is_active
    assert hook.headers == {"X-Webhook-Token": "shared"}
    assert hook.created_at is not None
    assert hook.id in {h.id async for h in client.hooks.iterate({"scope": "store/order/created"})}
    assert (await client.hooks.get(hook.id)).destination == "https://hooks.example.com/bc"
    assert not (await client.hooks.update(hook.id, {"is_active": False})).is_active
    await client.hooks.set_admin_emails(["ops@example.com"])
    admin = await client.hooks.admin()
    assert admin.emails == ["ops@example.com"]
    assert hook.id in {int(h["id"]) for h in admin.hooks_list}
    assert (await client.hooks.delete(hook.id)).id == hook.id
    with pytest.raises(NotFound):
        await client.hooks.get(hook.id)
    check_conformance(recorded)


def test_spec_mapping_covers_every_family() -> None:
    base = "http://127.0.0.1:1/stores/h"
    assert spec_for(httpx2.URL(base + "/v2/orders/1")) == ("orders.v2.oas2.yml", "/orders/1")
    assert spec_for(httpx2.URL(base + "/v3/hooks/2")) == ("webhooks.v3.yml", "/hooks/2")
    b2b = "http://127.0.0.1:1/b2b/api/v3/io"
    assert spec_for(httpx2.URL(b2b + "/ip/payments/3")) == (INVOICE_PORTAL, "/payments/3")
    assert urlsplit(b2b).path.endswith("/io")


# V2 orders, sub-resources, shipments, statuses

BILLING = {
    "first_name": "Jane",
    "last_name": "Doe",
    "street_1": "123 Main Street",
    "city": "Austin",
    "state": "Texas",
    "zip": "78751",
    "country": "United States",
    "country_iso2": "US",
    "email": "janedoe@example.com",
}


async def test_v2_orders_page_filter_and_count(
    client: BigCommerceClient, recorded: list[httpx2.Response]
) -> None:
    counted = await client.orders.count()
    orders = [order async for order in client.orders.iterate(page_size=25)]
    assert len(orders) == counted.count
    assert [o.id for o in orders] == sorted(o.id for o in orders)
    assert sum(status.count for status in counted.statuses) == counted.count
    assert all(order.date_created.tzinfo is UTC for order in orders)
    middle = sorted(o.date_modified for o in orders)[len(orders) // 2]
    recent = [o async for o in client.orders.iterate({"min_date_modified": middle})]
    assert recent
    assert all(o.date_modified >= middle for o in recent)
    assert {o.id for o in recent} == {o.id for o in orders if o.date_modified >= middle}
    status_id = orders[0].status_id
    same = [o async for o in client.orders.iterate({"status_id": status_id})]
    assert {o.status_id for o in same} == {status_id}
    assert await client.orders.page(page=10_000, limit=50) == []
    assert check_conformance(recorded) >= 6


async def test_v2_order_detail_and_read_only_sub_resources(
    client: BigCommerceClient, recorded: list[httpx2.Response]
) -> None:
    order = next(o for o in await client.orders.page(limit=50) if not o.order_is_digital)
    detail = await client.orders.get(order.id)
    assert detail.total_inc_tax == order.total_inc_tax
    assert isinstance(detail.total_inc_tax, Decimal)
    lines = [line async for line in client.orders.products(order.id)]
    assert lines
    assert sum(line.quantity for line in lines) == detail.items_total
    line = await client.orders.product(order.id, lines[0].id)
    assert line.price_inc_tax == lines[0].price_inc_tax
    addresses = await client.orders.shipping_addresses(order.id)
    assert addresses
    address = await client.orders.shipping_address(order.id, addresses[0].id)
    assert address.zip == addresses[0].zip
    quotes = await client.orders.sub_resource(
        order.id, f"shipping_addresses/{address.id}/shipping_quotes"
    )
    assert quotes == []
    assert await client.orders.sub_resource(order.id, "coupons") == []
    assert await client.orders.sub_resource(order.id, "fees") == []
    consignments = await client.orders.consignments(order.id)
    assert consignments["shipping"]
    assert check_conformance(recorded) >= 8


async def test_v2_unknown_order_is_not_found(client: BigCommerceClient) -> None:
    with pytest.raises(NotFound) as caught:
        await client.orders.get(99_999_999)
    assert caught.value.path == "/v2/orders/99999999"


async def test_v2_order_statuses(
    client: BigCommerceClient, recorded: list[httpx2.Response]
) -> None:
    statuses = await client.orders.statuses()
    assert {status.id for status in statuses} >= set(range(15))
    awaiting = await client.orders.status(11)
    assert awaiting.name == "Awaiting Fulfillment"
    check_conformance(recorded)


async def test_v2_create_update_ship_and_archive(
    client: BigCommerceClient, recorded: list[httpx2.Response]
) -> None:
    created = await client.orders.create(
        {
            "billing_address": BILLING,
            "shipping_addresses": [BILLING],
            "products": [
                {"name": "Mug", "quantity": 2, "price_inc_tax": 50, "price_ex_tax": 45},
            ],
        }
    )
    assert created.status_id == 1
    assert created.subtotal_inc_tax == Decimal("100")
    updated = await client.orders.update(created.id, {"status_id": 11, "staff_notes": "via client"})
    assert (updated.status_id, updated.staff_notes) == (11, "via client")
    assert updated.date_modified >= created.date_modified
    assert await client.orders.shipments(created.id) == []
    line = await anext(client.orders.products(created.id))
    address = (await client.orders.shipping_addresses(created.id))[0]
    shipment = await client.orders.create_shipment(
        created.id,
        {
            "order_address_id": address.id,
            "tracking_number": "1Z999",
            "items": [{"order_product_id": line.id, "quantity": 1}],
        },
    )
    assert shipment.items[0].quantity == 1
    assert await client.orders.shipment_count(created.id) == 1
    assert (await client.orders.shipment(created.id, shipment.id)).tracking_number == "1Z999"
    changed = await client.orders.update_shipment(
        created.id, shipment.id, {"tracking_number": "2Z"}
    )
    assert changed.tracking_number == "2Z"
    assert [s.id for s in await client.orders.shipments(created.id)] == [shipment.id]
    await client.orders.delete_shipment(created.id, shipment.id)
    assert await client.orders.shipment_count(created.id) == 0
    await client.orders.create_shipment(
        created.id,
        {"order_address_id": address.id, "items": [{"order_product_id": line.id, "quantity": 1}]},
    )
    await client.orders.delete_shipments(created.id)
    assert await client.orders.shipments(created.id) == []
    await client.orders.archive(created.id)
    assert (await client.orders.get(created.id)).is_deleted
    check_conformance(recorded)


async def test_b2b_record_of_a_new_buyer_order(
    client: BigCommerceClient, sandbox: RunningSandbox
) -> None:
    store = store_of(sandbox)
    buyer = next(c for c in store.customers.values() if c.company_id is not None)
    created = await client.orders.create(
        {
            "customer_id": buyer.id,
            "billing_address": BILLING,
            "products": [
                {"name": "Service", "quantity": 1, "price_inc_tax": 10, "price_ex_tax": 10}
            ],
        }
    )
    # The quiet sandbox attaches the B2B record at once, so attaching again is refused.
    with pytest.raises(BadRequest, match="already exists"):
        await client.b2b.create_order(bc_order_id=created.id, customer_id=buyer.id)
    record = await client.b2b.order(created.id)
    assert (record.bc_order_id, record.company_id) == (created.id, buyer.company_id)
    assert record.is_invoice_order == 0
    with pytest.raises(NotFound, match="Order Does Not Exist"):
        await client.b2b.create_order(bc_order_id=created.id + 10_000, customer_id=buyer.id)
