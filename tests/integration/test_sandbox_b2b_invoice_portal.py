"""The sandbox's B2B Edition Invoice Portal over HTTP on loopback: invoices, the invoice-payment
checkout, offline payments, processing statuses, receipts and the portal config
(invoice-management.yaml, config.yaml, bigcommerce-api.md §0, §5.4 and §6)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx2
import pytest

from b2bsync.sandbox.b2b.payments import checkout_invoice_payment
from b2bsync.sandbox.errors import B2BError
from b2bsync.sandbox.models import Company, Customer
from b2bsync.sandbox.orders import total_inc_tax, update_order
from b2bsync.sandbox.world import StoreState
from tests.integration.b2b_conformance import INVOICE_PORTAL, IP_CONFIG, ORDERS, conforms
from tests.sandbox_server import RunningSandbox

_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def client(sandbox: RunningSandbox) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sandbox.b2b_url, headers=sandbox.headers(b2b=True)) as client:
        yield client


def _store(sandbox: RunningSandbox) -> StoreState:
    return sandbox.world.stores[sandbox.config.store_hash]


def _company_with_buyer(state: StoreState, index: int = 0) -> tuple[Company, Customer]:
    buyers = sorted(
        (c for c in state.customers.values() if c.company_id is not None), key=lambda c: c.id
    )
    companies = sorted({b.company_id for b in buyers if b.company_id is not None})
    company_id = companies[index % len(companies)]
    buyer = next(b for b in buyers if b.company_id == company_id)
    return state.companies[company_id], buyer


def _new_invoice(
    client: httpx2.Client, company: Company, amount: str = "400.00", **extra: Any
) -> int:
    number = str(900_000 + next(_numbers))
    response = client.post(
        "/ip/invoices",
        json={
            "invoiceNumber": number,
            "customerId": str(company.id),
            "originalBalance": {"code": "USD", "value": float(amount)},
            "openBalance": {"code": "USD", "value": float(amount)},
            **extra,
        },
    )
    assert response.status_code == 200, response.text
    conforms(INVOICE_PORTAL, "POST", "/invoices", response)
    invoice_id: int = response.json()["data"]["id"]
    return invoice_id


def _invoice(client: httpx2.Client, invoice_id: int) -> dict[str, Any]:
    response = client.get(f"/ip/invoices/{invoice_id}")
    data: dict[str, Any] = conforms(INVOICE_PORTAL, "GET", f"/invoices/{invoice_id}", response)[
        "data"
    ]
    return data


def _payment(client: httpx2.Client, payment_id: int) -> dict[str, Any]:
    response = client.get(f"/ip/payments/{payment_id}")
    data: dict[str, Any] = conforms(INVOICE_PORTAL, "GET", f"/payments/{payment_id}", response)[
        "data"
    ]
    return data


ADDRESS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "street1": "1 Engine Way",
    "street2": "Floor 2",
    "city": "London",
    "state": "London",
    "zipCode": "N1",
    "country": "GB",
}


def _offline(
    client: httpx2.Client, company: Company, lines: list[tuple[int, str]], **extra: Any
) -> httpx2.Response:
    return client.post(
        "/ip/payments/offline",
        json={
            "lineItems": [{"invoiceId": i, "amount": amount} for i, amount in lines],
            "currency": "USD",
            "details": {"memo": "Check #1001"},
            "customerId": str(company.id),
            **extra,
        },
    )


# --- invoices -------------------------------------------------------------------------------


def test_invoice_create_read_update_delete(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    company, _ = _company_with_buyer(_store(sandbox))
    details = {
        "header": {
            "costLines": [{"description": "Freight", "amount": {"code": "USD", "value": "25.00"}}],
            "billingAddress": ADDRESS,
            "shippingAddresses": [ADDRESS],
        },
        "details": {
            "lineItems": [
                {"sku": "X-1", "quantity": "2", "unitPrice": {"code": "USD", "value": "187.50"}}
            ]
        },
    }
    invoice_id = _new_invoice(
        client,
        company,
        externalId="ERP-77",
        dueDate=1_900_000_000,
        details=details,
        extraFields=[{"fieldName": "Payment Terms", "fieldValue": "Net 30"}],
    )
    invoice = _invoice(client, invoice_id)
    assert invoice["customerId"] == str(company.id)
    assert invoice["customerName"] == company.name
    assert invoice["status"] == 0
    assert invoice["openBalance"] == {"code": "USD", "value": "400.0000"}
    assert invoice["dueDate"] == 1_900_000_000
    assert invoice["externalId"] == "ERP-77"
    assert invoice["isPendingPayment"] == 0
    assert invoice["details"]["type"] == "StandardInvoiceDetails"
    assert invoice["details"]["details"]["lineItems"][0]["sku"] == "X-1"
    assert invoice["extraFields"] == [{"fieldName": "Payment Terms", "fieldValue": "Net 30"}]

    new_details = {
        "header": {
            "costLines": [{"description": "Tax", "amount": {"code": "USD", "value": "5.00"}}],
            "billingAddress": ADDRESS,
            "shippingAddresses": [ADDRESS, {**ADDRESS, "street1": "2 Engine Way"}],
        },
        "details": {
            "lineItems": [
                {"sku": "Y-2", "quantity": "1", "unitPrice": {"code": "USD", "value": "145.00"}}
            ]
        },
    }
    updated = client.put(
        f"/ip/invoices/{invoice_id}",
        json={"openBalance": {"code": "USD", "value": "150.00"}, "details": new_details},
    )
    assert updated.status_code == 200
    conforms(INVOICE_PORTAL, "PUT", f"/invoices/{invoice_id}", updated)
    invoice = _invoice(client, invoice_id)
    assert invoice["status"] == 1
    assert [line["sku"] for line in invoice["details"]["details"]["lineItems"]] == ["Y-2"]
    assert invoice["details"]["header"]["costLines"][0]["description"] == "Tax"
    assert len(invoice["details"]["header"]["shippingAddresses"]) == 2
    client.put(f"/ip/invoices/{invoice_id}", json={"openBalance": {"code": "USD", "value": 0}})
    assert _invoice(client, invoice_id)["status"] == 2
    # A status given with a zero balance still ends as paid.
    client.put(f"/ip/invoices/{invoice_id}", json={"status": 0})
    assert _invoice(client, invoice_id)["status"] == 2

    pdf = client.get(f"/ip/invoices/{invoice_id}/download-pdf")
    conforms(INVOICE_PORTAL, "GET", f"/invoices/{invoice_id}/download-pdf", pdf)
    assert pdf.json()["data"]["url"].endswith(".pdf")

    deleted = client.delete(f"/ip/invoices/{invoice_id}")
    conforms(INVOICE_PORTAL, "DELETE", f"/invoices/{invoice_id}", deleted)
    assert deleted.json()["data"] == {"id": invoice_id}
    gone = client.get(f"/ip/invoices/{invoice_id}")
    conforms(INVOICE_PORTAL, "GET", f"/invoices/{invoice_id}", gone)
    assert gone.status_code == 404
    assert gone.json()["data"]["errMsg"] == "Invoice does not exist"
    assert client.delete(f"/ip/invoices/{invoice_id}").status_code == 404


def test_invoice_number_is_unique(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    company, _ = _company_with_buyer(_store(sandbox))
    body = {
        "invoiceNumber": "DUP-1",
        "customerId": str(company.id),
        "originalBalance": {"code": "USD", "value": 10},
        "openBalance": {"code": "USD", "value": 10},
    }
    assert client.post("/ip/invoices", json=body).status_code == 200
    again = client.post("/ip/invoices", json=body)
    assert again.status_code == 400
    assert again.json()["data"]["errMsg"] == "The invoice number already exists."
    # Only one invoice per BigCommerce order number.
    order_number = next(i.order_number for i in _store(sandbox).invoices.values() if i.order_number)
    taken = client.post(
        "/ip/invoices", json={**body, "invoiceNumber": "DUP-2", "orderNumber": order_number}
    )
    assert taken.status_code == 400
    other = _new_invoice(client, company, "10")
    renamed = client.put(f"/ip/invoices/{other}", json={"invoiceNumber": "DUP-1"})
    assert renamed.status_code == 400
    assert renamed.json()["data"]["errMsg"] == "The invoice number already exists."


def test_invoice_create_validation(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    company, _ = _company_with_buyer(_store(sandbox))
    missing = client.post("/ip/invoices", json={"invoiceNumber": "NOPE"})
    assert missing.status_code == 422
    assert "originalBalance" in missing.json()["data"]["errMsg"]
    base = {
        "invoiceNumber": "BAD-1",
        "customerId": str(company.id),
        "originalBalance": {"code": "USD", "value": 10},
        "openBalance": {"code": "USD", "value": "ten"},
    }
    assert client.post("/ip/invoices", json=base).status_code == 422
    unknown = {**base, "openBalance": {"code": "USD", "value": 1}, "customerId": "987654"}
    assert client.post("/ip/invoices", json=unknown).status_code == 404
    bad_field = {
        **base,
        "openBalance": {"code": "USD", "value": 1},
        "extraFields": [{"fieldName": "Nope", "fieldValue": "x"}],
    }
    assert client.post("/ip/invoices", json=bad_field).status_code == 422
    assert client.post("/ip/invoices", content=b"{not json").status_code == 400


def test_invoice_from_order_uses_the_b2b_order_id(
    sandbox: RunningSandbox, client: httpx2.Client
) -> None:
    state = _store(sandbox)
    record = next(
        r
        for r in state.b2b_orders.values()
        if not r.is_invoice_order
        and not any(i.order_number == str(r.bc_order_id) for i in state.invoices.values())
    )
    assert client.post(f"/ip/orders/{record.bc_order_id}/invoices").status_code == 404
    created = client.post(f"/ip/orders/{record.id}/invoices")
    assert created.status_code == 200, created.text
    conforms(INVOICE_PORTAL, "POST", f"/orders/{record.id}/invoices", created)
    data = created.json()["data"]
    source = state.orders[record.bc_order_id]
    assert data["invoiceNumber"] == str(source.id)
    assert data["invoiceId"] in source.truth_invoice_ids
    invoice = _invoice(client, data["invoiceId"])
    assert invoice["orderNumber"] == str(source.id)
    assert invoice["purchaseOrderNumber"] == record.po_number
    assert invoice["customerId"] == str(record.company_id)
    assert Decimal(invoice["originalBalance"]["value"]) == total_inc_tax(source)
    skus = [line["sku"] for line in invoice["details"]["details"]["lineItems"]]
    assert skus == [p.sku for p in source.products]
    again = client.post(f"/ip/orders/{record.id}/invoices")
    assert again.status_code == 400
    missing = client.post("/ip/orders/999999/invoices")
    assert missing.status_code == 404
    assert missing.json()["data"]["errMsg"] == "Order does not exist"


def test_invoice_list_filters_and_sorts(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    state = _store(sandbox)
    company, _ = _company_with_buyer(state, 1)
    tagged = _new_invoice(client, company, "12.34", externalId="ERP-LIST-1", type="Credit Memo")
    listed = client.get("/ip/invoices", params={"limit": 250})
    body = conforms(INVOICE_PORTAL, "GET", "/invoices", listed)
    assert body["meta"]["pagination"]["totalCount"] == len(state.invoices)

    def ids(**params: Any) -> list[int]:
        response = client.get("/ip/invoices", params={"limit": 250, **params})
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["data"]]

    assert ids(**{"externalId[]": "ERP-LIST-1"}) == [tagged]
    assert ids(searchBy="type", q="credit memo") == [tagged]
    assert tagged in ids(customerId=company.id)
    assert all(state.invoices[i].customer_id == company.id for i in ids(customerId=company.id))
    assert tagged in ids(customerName=company.name[:6])
    assert set(ids(status=2)) == {i.id for i in state.invoices.values() if i.status == 2}
    some = next(i for i in state.invoices.values() if i.order_number)
    assert some.id in ids(searchBy="orderNumber", q=some.order_number)
    created = int(state.invoices[tagged].created_at.timestamp())
    assert tagged in ids(beginDateAt=created, endDateAt=created + 1)
    assert tagged not in ids(endDateAt=created - 1)
    ascending = client.get(
        "/ip/invoices", params={"limit": 250, "sortBy": "openBalance", "orderBy": "ASC"}
    ).json()["data"]
    balances = [Decimal(i["openBalance"]["value"]) for i in ascending]
    assert balances == sorted(balances)
    with_extra = client.get("/ip/invoices", params={"isIncludeExtraFields": "1", "limit": 1})
    assert "extraFields" in with_extra.json()["data"][0]
    assert "extraFields" not in listed.json()["data"][0]
    assert client.get("/ip/invoices", params={"limit": 251}).status_code == 413
    assert client.get("/ip/invoices", params={"sortBy": "color"}).status_code == 422
    assert client.get("/ip/invoices", params={"status": 5}).status_code == 422
    assert client.get("/ip/invoices", params={"searchBy": "memo", "q": "x"}).status_code == 422


def test_invoice_extra_field_configs(client: httpx2.Client) -> None:
    response = client.get("/ip/invoices/extra-fields")
    body = conforms(INVOICE_PORTAL, "GET", "/invoices/extra-fields", response)
    assert {f["fieldName"] for f in body["data"]} == {"ERP Reference", "Payment Terms"}


# --- the invoice-payment checkout -----------------------------------------------------------


def test_invoice_payment_checkout_end_to_end(
    sandbox: RunningSandbox, client: httpx2.Client
) -> None:
    state = _store(sandbox)
    company, buyer = _company_with_buyer(state, 2)
    first = _new_invoice(client, company, "100.00")
    second = _new_invoice(client, company, "300.00")
    paid_number = state.invoices[first].invoice_number
    config = conforms(IP_CONFIG, "GET", "/config", client.get("/ip/config"))["data"]
    product_id = config["paymentsBigcommerceSalesOrder"]["productId"]
    assert product_id == state.invoice_payment_product_id

    order = checkout_invoice_payment(
        state,
        company_id=company.id,
        customer_id=buyer.id,
        allocations=[(first, Decimal("100.00")), (second, Decimal("120.00"))],
        now=sandbox.world.clock(),
        config=sandbox.config,
    )
    assert [(p.name, p.type, p.quantity, p.price_inc_tax) for p in order.products] == [
        ("Invoice Payment", "digital", 1, Decimal("220.00"))
    ]
    assert order.products[0].product_id == product_id
    assert order.status_id == 11
    assert order.shipping_addresses == []
    assert order.truth_kind == "invoice payment"
    assert order.truth_invoice_ids == [first, second]

    detail = client.get(f"/orders/{order.id}")
    assert detail.status_code == 200, detail.text
    conforms(ORDERS, "GET", f"/orders/{order.id}", detail)
    b2b_order = detail.json()["data"]
    assert b2b_order["isInvoiceOrder"] == 1
    assert b2b_order["invoiceId"] == first
    assert b2b_order["invoiceNumber"] == int(paid_number)
    assert b2b_order["invoiceStatus"] == 2
    assert b2b_order["totalIncTax"] == 220.0

    paid_first, paid_second = _invoice(client, first), _invoice(client, second)
    assert (paid_first["status"], paid_first["openBalance"]["value"]) == (2, "0.0000")
    assert (paid_second["status"], paid_second["openBalance"]["value"]) == (1, "180.0000")

    payments = client.get("/ip/payments", params={"invoiceId": second}).json()["data"]
    assert len(payments) == 1
    payment = _payment(client, payments[0]["id"])
    assert payment["moduleName"] == "payments_bigcommerce_sales_order"
    assert payment["moduleData"]["orderId"] == order.id
    assert payment["moduleData"]["cartId"] == order.cart_id
    assert payment["processingStatus"] == 3
    assert payment["total"] == {"code": "USD", "value": "220.0000"}
    assert [(li["invoiceId"], li["amount"]["value"]) for li in payment["lineItems"]] == [
        (first, "100.0000"),
        (second, "120.0000"),
    ]
    transactions = client.get(f"/ip/payments/{payment['id']}/transactions")
    conforms(INVOICE_PORTAL, "GET", f"/payments/{payment['id']}/transactions", transactions)
    transaction = transactions.json()["data"][0]
    assert transaction["transactionId"] == order.payment_provider_id
    assert json.loads(transaction["rawTransaction"])["status"] == "captured"

    receipts = client.get(
        "/ip/receipts", params={"searchBy": "referenceNumber", "q": str(order.id)}
    ).json()["data"]
    assert [(r["paymentId"], r["transactionType"]) for r in receipts] == [(payment["id"], "Paid")]
    lines = client.get(f"/ip/receipts/{receipts[0]['id']}/lines").json()["data"]
    assert sorted((li["invoiceId"], li["amount"]["value"]) for li in lines) == [
        (first, "100.0000"),
        (second, "120.0000"),
    ]

    # Paying the rest closes the second invoice; overpaying is refused.
    with pytest.raises(B2BError, match="exceeds the open balance"):
        checkout_invoice_payment(
            state,
            company_id=company.id,
            customer_id=buyer.id,
            allocations=[(second, Decimal("180.01"))],
            now=sandbox.world.clock(),
            config=sandbox.config,
        )
    last = checkout_invoice_payment(
        state,
        company_id=company.id,
        customer_id=buyer.id,
        allocations=[(second, Decimal("180.00"))],
        now=sandbox.world.clock(),
        config=sandbox.config,
    )
    assert _invoice(client, second)["status"] == 2

    # Cancelling that order and pulling updates from it refunds its payment.
    last_payment = next(
        p for p in state.payments.values() if p.module_data.get("orderId") == last.id
    )
    operations = f"/ip/payments/{last_payment.id}/operations"
    assert client.get(operations).json()["data"]["allowedOperations"] == [1, 2]
    assert client.post(operations, json={"operationCode": 2}).status_code == 200
    assert _payment(client, last_payment.id)["processingStatus"] == 3
    update_order(state, last, {"status_id": 5}, sandbox.world.clock())
    assert client.post(operations, json={"operationCode": 2}).status_code == 200
    assert _payment(client, last_payment.id)["processingStatus"] == 4
    assert _invoice(client, second)["openBalance"]["value"] == "180.0000"


# --- offline payments and processing statuses -----------------------------------------------


def test_offline_payment_lifecycle(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    state = _store(sandbox)
    company, _ = _company_with_buyer(state, 3)
    invoice_id = _new_invoice(client, company, "50.00")
    created = _offline(client, company, [(invoice_id, "20.00")], processingStatus=1)
    assert created.status_code == 200, created.text
    conforms(INVOICE_PORTAL, "POST", "/payments/offline", created)
    payment_id = created.json()["data"]["paymentId"]

    pending = _invoice(client, invoice_id)
    assert (pending["openBalance"]["value"], pending["isPendingPayment"]) == ("50.0000", 1)
    payment = _payment(client, payment_id)
    assert payment["moduleName"] == "payments_offline"
    assert payment["payerName"] == "Store offline payment"
    assert payment["payerCustomerId"] == str(company.id)
    assert payment["details"] == {"memo": "Check #1001"}
    assert payment["appliedStatus"] == 0
    operations = client.get(f"/ip/payments/{payment_id}/operations")
    conforms(INVOICE_PORTAL, "GET", f"/payments/{payment_id}/operations", operations)
    assert operations.json()["data"]["allowedStatuses"] == [1, 2, 3]

    path = f"/ip/payments/{payment_id}/processing-status"
    refused = client.put(path, json={"processingStatus": 4})
    assert refused.status_code == 400
    conforms(INVOICE_PORTAL, "PUT", f"/payments/{payment_id}/processing-status", refused)
    assert refused.json()["data"]["errMsg"] == "The payment processing status is not allowed."

    completed = client.put(path, json={"processingStatus": 3})
    assert completed.status_code == 200
    conforms(INVOICE_PORTAL, "PUT", f"/payments/{payment_id}/processing-status", completed)
    paid = _invoice(client, invoice_id)
    assert (paid["openBalance"]["value"], paid["status"], paid["isPendingPayment"]) == (
        "30.0000",
        1,
        0,
    )
    assert _payment(client, payment_id)["allowedStatuses"] == [1, 2, 3, 4]

    assert client.put(path, json={"processingStatus": 4}).status_code == 200
    refunded = _invoice(client, invoice_id)
    assert (refunded["openBalance"]["value"], refunded["status"]) == ("50.0000", 0)
    kinds = [
        r["transactionType"]
        for r in client.get("/ip/receipts", params={"limit": 250}).json()["data"]
        if r["paymentId"] == payment_id
    ]
    assert sorted(kinds) == ["Paid", "Refund"]
    assert client.put(path, json={"processingStatus": 3}).status_code == 400
    assert client.put(path, json={"processingStatus": "done"}).status_code == 422
    assert client.put("/ip/payments/999999/processing-status", json={"processingStatus": 3}).json()[
        "data"
    ] == {"errMsg": "Payment does not exist"}


def test_offline_payment_defaults_and_validation(
    sandbox: RunningSandbox, client: httpx2.Client
) -> None:
    state = _store(sandbox)
    company, _ = _company_with_buyer(state, 4)
    first = _new_invoice(client, company, "80.00")
    second = _new_invoice(client, company, "40.00")

    def refused(response: httpx2.Response) -> str:
        assert response.status_code == 422, response.text
        conforms(INVOICE_PORTAL, "POST", "/payments/offline", response)
        message: str = response.json()["data"]["errMsg"]
        return message

    assert "exceeds" in refused(_offline(client, company, [(first, "80.01")]))
    assert refused(_offline(client, company, [(first, "1")], currency="EUR")) == (
        "Invalid currency code"
    )
    assert "does not exist" in refused(_offline(client, company, [(999_999, "1")]))
    assert "must be positive" in refused(_offline(client, company, [(first, "0")]))
    assert "details" in refused(
        client.post("/ip/payments/offline", json={"lineItems": [], "customerId": "1"})
    )
    other, _ = _company_with_buyer(state, 0)
    assert "does not belong" in refused(_offline(client, other, [(first, "1")]))

    created = _offline(client, company, [(first, "30.00"), (second, "40.00")], externalId="W-9")
    payment_id = created.json()["data"]["paymentId"]
    payment = _payment(client, payment_id)
    assert (payment["processingStatus"], payment["appliedStatus"]) == (3, 1)
    assert payment["total"]["value"] == "70.0000"
    assert payment["externalId"] == "W-9"
    assert _invoice(client, first)["openBalance"]["value"] == "50.0000"
    assert _invoice(client, second)["status"] == 2

    updated = client.put(
        f"/ip/payments/offline/{payment_id}",
        json={
            "lineItems": [{"invoiceId": first, "amount": "80.00"}],
            "currency": "USD",
            "details": {"memo": "Wire 9"},
            "customerId": str(company.id),
        },
    )
    assert updated.status_code == 200, updated.text
    conforms(INVOICE_PORTAL, "PUT", f"/payments/offline/{payment_id}", updated)
    assert _invoice(client, first)["status"] == 2
    assert _invoice(client, second)["openBalance"]["value"] == "40.0000"
    assert _payment(client, payment_id)["details"] == {"memo": "Wire 9"}

    deleted = client.delete(f"/ip/payments/{payment_id}")
    conforms(INVOICE_PORTAL, "DELETE", f"/payments/{payment_id}", deleted)
    assert _invoice(client, first)["openBalance"]["value"] == "80.0000"
    assert client.get(f"/ip/payments/{payment_id}").status_code == 404
    remaining = client.get("/ip/receipts", params={"searchBy": "referenceNumber", "q": "W-9"})
    assert remaining.json()["data"] == []


def test_payment_operations(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    company, _ = _company_with_buyer(_store(sandbox), 1)
    invoice_id = _new_invoice(client, company, "10.00")
    payment_id = _offline(client, company, [(invoice_id, "10.00")]).json()["data"]["paymentId"]
    path = f"/ip/payments/{payment_id}/operations"
    assert client.get(path).json()["data"]["allowedOperations"] == [1]
    assert client.post(path, json={"operationCode": 0}).status_code == 400
    reverted = client.post(path, json={"operationCode": 1})
    assert reverted.status_code == 200
    conforms(INVOICE_PORTAL, "POST", f"/payments/{payment_id}/operations", reverted)
    assert _invoice(client, invoice_id)["status"] == 0
    assert client.post(path, json={"operationCode": 0}).status_code == 200
    assert _invoice(client, invoice_id)["status"] == 2


def test_payment_list_filters(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    state = _store(sandbox)
    company, _ = _company_with_buyer(state, 2)
    invoice_id = _new_invoice(client, company, "77.00")
    payment_id = _offline(
        client, company, [(invoice_id, "7.00")], processingStatus=2, externalCustomerId="C-42"
    ).json()["data"]["paymentId"]
    listed = client.get("/ip/payments", params={"limit": 250})
    body = conforms(INVOICE_PORTAL, "GET", "/payments", listed)
    assert body["meta"]["pagination"]["totalCount"] == len(state.payments)

    def ids(**params: Any) -> list[int]:
        response = client.get("/ip/payments", params={"limit": 250, **params})
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["data"]]

    assert ids(invoiceId=invoice_id) == [payment_id]
    assert ids(searchBy="id", q=str(payment_id)) == [payment_id]
    assert ids(searchBy="externalCustomerId", q="c-4") == [payment_id]
    assert payment_id in ids(processingStatus=2)
    assert payment_id not in ids(processingStatus=3)
    assert payment_id in ids(customerName=company.name)
    assert set(ids(searchBy="customerId", q=str(company.id))) == {
        p.id for p in state.payments.values() if p.customer_id == company.id
    }
    totals = [
        Decimal(p["total"]["value"])
        for p in client.get(
            "/ip/payments", params={"limit": 250, "sortBy": "totalAmount", "orderBy": "ASC"}
        ).json()["data"]
    ]
    assert totals == sorted(totals)
    assert client.get("/ip/payments", params={"processingStatus": 7}).status_code == 422
    assert client.get("/ip/payments", params={"limit": 999}).status_code == 413


# --- receipts and config --------------------------------------------------------------------


def test_receipts_and_lines(sandbox: RunningSandbox, client: httpx2.Client) -> None:
    state = _store(sandbox)
    company, _ = _company_with_buyer(state, 3)
    invoice_a = _new_invoice(client, company, "60.00")
    invoice_b = _new_invoice(client, company, "60.00")
    payment_id = _offline(
        client, company, [(invoice_a, "10.00"), (invoice_b, "20.00")], payerName="Acme AP"
    ).json()["data"]["paymentId"]

    listed = client.get("/ip/receipts", params={"limit": 250})
    body = conforms(INVOICE_PORTAL, "GET", "/receipts", listed)
    assert body["meta"]["pagination"]["totalCount"] == len(state.receipts)
    created = [r["createdAt"] for r in body["data"]]
    assert created == sorted(created, reverse=True)
    mine = client.get("/ip/receipts", params={"searchBy": "payerName", "q": "acme ap"})
    receipt = mine.json()["data"][0]
    assert (receipt["paymentId"], receipt["paymentType"], receipt["total"]["value"]) == (
        payment_id,
        "Offline",
        "30.0000",
    )
    receipt_id = receipt["id"]
    detail = client.get(f"/ip/receipts/{receipt_id}")
    conforms(INVOICE_PORTAL, "GET", f"/receipts/{receipt_id}", detail)
    assert detail.json()["data"]["details"] == {"paymentDetails": {"memo": "Check #1001"}}
    assert receipt_id in [
        r["id"]
        for r in client.get("/ip/receipts", params={"paymentStatus[]": 3, "limit": 250}).json()[
            "data"
        ]
    ]
    assert client.get("/ip/receipts", params={"paymentStatus[]": 0}).json()["data"] == []

    lines_response = client.get(f"/ip/receipts/{receipt_id}/lines")
    lines = conforms(INVOICE_PORTAL, "GET", f"/receipts/{receipt_id}/lines", lines_response)
    assert sorted(li["invoiceId"] for li in lines["data"]) == [invoice_a, invoice_b]
    assert all(li["paymentStatus"] == 3 and li["receiptId"] == receipt_id for li in lines["data"])
    by_invoice = client.get(
        "/ip/receipt-lines", params={"searchBy": "invoiceId", "q": str(invoice_b)}
    )
    conforms(INVOICE_PORTAL, "GET", "/receipt-lines", by_invoice)
    line = by_invoice.json()["data"][0]
    assert (line["invoiceId"], line["amount"]["value"]) == (invoice_b, "20.0000")
    line_path = f"/receipts/{receipt_id}/lines/{line['id']}"
    one = client.get("/ip" + line_path)
    conforms(INVOICE_PORTAL, "GET", line_path, one)
    assert one.json()["data"]["id"] == line["id"]
    amounts = [
        Decimal(li["amount"]["value"])
        for li in client.get(
            "/ip/receipt-lines", params={"sortBy": "amount", "orderBy": "ASC", "limit": 250}
        ).json()["data"]
    ]
    assert amounts == sorted(amounts)

    assert client.delete("/ip" + line_path).status_code == 200
    assert client.get("/ip" + line_path).status_code == 404
    assert len(client.get(f"/ip/receipts/{receipt_id}/lines").json()["data"]) == 1
    deleted = client.delete(f"/ip/receipts/{receipt_id}")
    conforms(INVOICE_PORTAL, "DELETE", f"/receipts/{receipt_id}", deleted)
    missing = client.get(f"/ip/receipts/{receipt_id}")
    conforms(INVOICE_PORTAL, "GET", f"/receipts/{receipt_id}", missing)
    assert missing.json()["data"]["errMsg"] == "Receipt does not exist"
    assert client.get("/ip/receipts", params={"sortBy": "payer"}).status_code == 422


def test_config_names_the_invoice_payment_product(
    sandbox: RunningSandbox, client: httpx2.Client
) -> None:
    state = _store(sandbox)
    config = conforms(IP_CONFIG, "GET", "/config", client.get("/ip/config"))["data"]
    product = state.catalog[state.invoice_payment_product_id]
    assert config["paymentsBigcommerceSalesOrder"]["productId"] == product.id
    assert config["paymentsBigcommerceSalesOrder"]["variantId"] == product.variant_id
    assert config["paymentsBigcommerceSalesOrder"]["isEnabled"] == 1
