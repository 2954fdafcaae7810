"""The issue-6 commands end to end through the CLI against the sandbox on loopback:
`push`, `writeback run/log`, `invoices reconcile/create-from-order/payment-status/set-fields`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from typer.testing import CliRunner

from b2bsync.cli import app
from tests.conftest import quiet_config
from tests.sandbox_server import RunningSandbox, run_sandbox

runner = CliRunner()

ADDRESS = {
    "first_name": "Jo",
    "street_1": "1 Road",
    "city": "Austin",
    "zip": "78751",
    "country": "United States",
    "country_iso2": "US",
    "email": "jo@example.com",
}


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSandbox]:
    with run_sandbox(quiet_config(orders=30, seed=41)) as running:
        monkeypatch.chdir(tmp_path)
        for name in ("B2BSYNC_CONFIG", "STORE_HASH", "ACCESS_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        values = {
            "BIGCOMMERCE_STORE_HASH": running.config.store_hash,
            "BIGCOMMERCE_ACCESS_TOKEN": running.config.token,
            "BIGCOMMERCE_API_URL": running.base_url,
            "B2B_API_URL": f"{running.base_url}/b2b",
            "B2BSYNC_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.db",
            "B2BSYNC_DESTINATIONS": json.dumps(
                [{"type": "jsonl", "name": "erp", "path": str(tmp_path / "erp.jsonl")}]
            ),
        }
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        yield running


def _run(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args and code == 0 else result.output


def test_push_orders_twice_reports_bad_rows_and_creates_nothing_new(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    good = {
        "external_order_id": "CLI-1",
        "billing_address": ADDRESS,
        "lines": [{"name": "Widget", "quantity": 1, "price_ex_tax": 5, "price_inc_tax": 5}],
    }
    path = tmp_path / "orders.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({"external_order_id": "CLI-2"}) + "\n")
    first = runner.invoke(app, ["push", "orders", str(path), "--json"])
    assert first.exit_code == 1, first.output
    report = json.loads(first.stdout)
    assert report["counts"]["created"] == 1
    assert [(r["line"], r["outcome"]) for r in report["rows"]] == [(1, "created"), (2, "failed")]
    assert "billing_address" in report["rows"][1]["detail"]
    # A bad row is reported under the key it names.
    assert report["rows"][1]["key"] == "CLI-2"
    second = runner.invoke(app, ["push", "orders", str(path)])
    assert second.exit_code == 1
    assert "1 unchanged" in second.output
    assert "0 created" in second.output
    assert "CLI-2" in second.output
    path.write_text(json.dumps(good | {"external_order_id": "CLI-3"}) + "\n")
    third = runner.invoke(app, ["push", "orders", str(path)])
    assert third.exit_code == 0, third.output
    [created] = [
        o.id
        for o in sandbox.world.stores[sandbox.config.store_hash].orders.values()
        if o.external_order_id == "CLI-3"
    ]
    assert re.search(rf"CLI-3\s*│\s*{created}", third.output), third.output


def test_writeback_and_invoices_commands(sandbox: RunningSandbox, tmp_path: Path) -> None:
    _run("sync", "--once")
    plan = _run("writeback", "run", "--dry-run", "--json")
    assert plan["dry_run"] is True
    assert plan["writes"]
    order_id = plan["writes"][0]["order_id"]
    state = sandbox.world.stores[sandbox.config.store_hash]
    assert not state.orders[order_id].staff_notes.startswith("[b2bsync]")
    # The table shows the marker it is about to write: data is never read as rich markup.
    shown = _run("writeback", "run", "--dry-run")
    assert "[b2bsync]" in shown

    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\norder_type = "invoice_payment"\nstatus_id = 10\n')
    done = _run("writeback", "run", "--rules", str(rules), "--json")
    assert done["writes"]
    assert all(w["order_type"] == "invoice_payment" for w in done["writes"])
    paid = done["writes"][0]["order_id"]
    assert state.orders[paid].status_id == 10
    log = _run("writeback", "log", str(paid), "--json")
    assert {row["target"] for row in log} == {"v2.staff_notes", "v2.status_id"}
    bad_rules = tmp_path / "bad.toml"
    bad_rules.write_text('[[rule]]\norder_type = "invoice_payment"\ncolour = 1\n')
    assert "colour" in _run("writeback", "run", "--rules", str(bad_rules), code=2)

    said = " ".join(_run("invoices", "reconcile", "--days", "0").split())
    assert "order_without_invoice: a B2B online order older than 0 days that no invoice" in said
    report = _run("invoices", "reconcile", "--days", "0", "--json")
    assert set(report["counts"]) == {
        "order_without_payment",
        "payment_without_order",
        "balance_mismatch",
        "order_without_invoice",
    }
    uninvoiced = [
        d["order_id"] for d in report["discrepancies"] if d["kind"] == "order_without_invoice"
    ]
    assert uninvoiced
    created = _run("invoices", "create-from-order", str(uninvoiced[0]), "--json")
    assert state.invoices[created["invoice_id"]].order_number == str(uninvoiced[0])
    again = _run("invoices", "create-from-order", str(uninvoiced[0]), code=1)
    assert "already invoiced" in again

    b2b_order = next(
        i
        for i, r in sorted(state.b2b_orders.items())
        if any(f.field_name == "Cost Center" and f.field_value for f in r.extra_fields)
    )
    po_before = state.b2b_orders[b2b_order].po_number
    fields = _run("invoices", "set-fields", str(b2b_order), "--po", "PO-CLI", "--json")
    assert fields == [{"target": "b2b.po_number", "before": po_before, "after": "PO-CLI"}]
    assert state.b2b_orders[b2b_order].po_number == "PO-CLI"

    invoice = next(i for i in state.invoices.values() if i.open_balance.value > 1)
    created_payment = httpx2.post(
        f"{sandbox.b2b_url}/ip/payments/offline",
        headers=sandbox.headers(b2b=True),
        json={
            "lineItems": [{"invoiceId": invoice.id, "amount": "1.00"}],
            "currency": invoice.open_balance.code,
            "details": {"memo": "wire 7"},
            "customerId": str(invoice.customer_id),
        },
    )
    assert created_payment.status_code == 200, created_payment.text
    completed = state.payments[created_payment.json()["data"]["paymentId"]]
    assert completed.processing_status == 3
    _run("invoices", "payment-status", str(completed.id), "4")
    assert completed.processing_status == 4
    refused = _run("invoices", "payment-status", str(completed.id), "1", code=1)
    assert "allowed: [4]" in refused
    assert completed.processing_status == 4
