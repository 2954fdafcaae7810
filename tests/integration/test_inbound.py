"""ERP → BigCommerce pushes against the sandbox on loopback: paid orders, shipments and invoices
from JSONL and CSV, applied twice, with bad rows reported and completed by a re-run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from b2bsync.destinations import Route
from b2bsync.domain.classification import UnclassifiedPolicy
from b2bsync.domain.origin import OrderOrigin
from b2bsync.store import Database
from b2bsync.sync import SyncSettings, run_once
from b2bsync.sync.loopback.inbound import (
    BadRow,
    Outcome,
    PushKind,
    merge_details,
    parse_rows,
    push_file,
)
from b2bsync.sync.loopback.writeback import writeback_history
from tests.conftest import quiet_config
from tests.integration.sync_support import Recorder, ledger, sqlite_db, sync_context
from tests.sandbox_server import RunningSandbox, run_sandbox

__all__ = ["sqlite_db"]

ADDRESS = {
    "first_name": "Jane",
    "last_name": "Doe",
    "street_1": "123 Main Street",
    "city": "Austin",
    "state": "Texas",
    "zip": "78751",
    "country": "United States",
    "country_iso2": "US",
    "email": "jane@example.com",
}


@pytest.fixture(scope="module")
def store() -> Iterator[RunningSandbox]:
    with run_sandbox(quiet_config(orders=10, seed=31)) as running:
        yield running


def _order(external_id: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "external_order_id": external_id,
        "payment_method": "Bank Transfer",
        "payment_provider_id": f"TX-{external_id}",
        "billing_address": ADDRESS,
        "shipping_address": ADDRESS,
        "lines": [
            {
                "name": "Widget",
                "sku": "W-1",
                "quantity": 2,
                "price_ex_tax": "10.00",
                "price_inc_tax": "11.00",
            },
            {
                "name": "Gadget",
                "sku": "G-1",
                "quantity": 1,
                "price_ex_tax": "5.00",
                "price_inc_tax": "5.50",
            },
        ],
    }
    row.update(fields)
    return row


def _jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    )
    return path


def _orders_by_external(sandbox: RunningSandbox) -> dict[str, Any]:
    state = sandbox.world.stores[sandbox.config.store_hash]
    return {o.external_order_id: o for o in state.orders.values() if o.external_order_id}


async def test_orders_pushed_twice_are_created_once_and_bad_rows_reported(
    store: RunningSandbox, sqlite_db: Database, tmp_path: Path
) -> None:
    rows: list[Any] = [
        _order("ERP-1"),
        "{not json",
        _order("ERP-2", status_id=10),
        _order("ERP-3", status_id=5),
        _order("ERP-4", lines=[]),
        _order(
            "ERP-5",
            lines=[
                {
                    "product_id": 999999,
                    "name": "X",
                    "quantity": 1,
                    "price_ex_tax": "1",
                    "price_inc_tax": "1",
                }
            ],
        ),
        _order("ERP-1"),
    ]
    path = _jsonl(tmp_path / "orders.jsonl", rows)
    async with sync_context(store, sqlite_db) as ctx:
        first = await push_file(ctx, PushKind.ORDERS, path)
        assert [(r.line, r.outcome) for r in first.rows] == [
            (1, Outcome.CREATED),
            (2, Outcome.FAILED),
            (3, Outcome.CREATED),
            (4, Outcome.FAILED),
            (5, Outcome.FAILED),
            (6, Outcome.FAILED),
            (7, Outcome.FAILED),
        ]
        reasons = {r.line: r.detail for r in first.failed}
        assert "not JSON" in reasons[2]
        assert "status_id" in reasons[4]
        assert "lines" in reasons[5]
        assert "999999" in reasons[6]
        assert "same key as line 1" in reasons[7]

        created = _orders_by_external(store)
        one, two = created["ERP-1"], created["ERP-2"]
        assert one.status_id == 11
        assert two.status_id == 10
        assert one.payment_method == "Bank Transfer"
        assert one.payment_provider_id == "TX-ERP-1"
        assert one.external_source == "b2bsync"
        assert [line.quantity for line in one.products] == [2, 1]
        assert {"ERP-3", "ERP-4", "ERP-5"}.isdisjoint(created)
        count = len(store.world.stores[store.config.store_hash].orders)

        again = await push_file(ctx, PushKind.ORDERS, path)
        assert again.count(Outcome.CREATED) == 0
        assert again.count(Outcome.UNCHANGED) == 2
        assert [r.line for r in again.failed] == [2, 4, 5, 6, 7]
        assert len(store.world.stores[store.config.store_hash].orders) == count

        fixed = _jsonl(
            tmp_path / "fixed.jsonl",
            [
                _order("ERP-1"),
                _order("ERP-2", status_id=10),
                _order("ERP-3"),
                _order("ERP-4"),
                _order("ERP-5"),
            ],
        )
        rerun = await push_file(ctx, PushKind.ORDERS, fixed)
        assert [r.outcome for r in rerun.rows] == [
            Outcome.UNCHANGED,
            Outcome.UNCHANGED,
            Outcome.CREATED,
            Outcome.CREATED,
            Outcome.CREATED,
        ]
        assert len(store.world.stores[store.config.store_hash].orders) == count + 3
        logged = await writeback_history(sqlite_db, ctx.store, one.id)
        assert [(e.source, e.after) for e in logged] == [("push:orders", "ERP-1")]

        # An archived order still exists: pushing it again must not create a duplicate.
        await ctx.client.orders.archive(one.id)
        after_archive = await push_file(ctx, PushKind.ORDERS, fixed)
        assert after_archive.rows[0].outcome is Outcome.UNCHANGED
        assert after_archive.rows[0].resource_id == one.id
        assert after_archive.count(Outcome.CREATED) == 0


async def test_orders_from_csv_group_line_rows(
    store: RunningSandbox, sqlite_db: Database, tmp_path: Path
) -> None:
    header = (
        "external_order_id,status_id,payment_method,billing_first_name,billing_last_name,"
        "billing_street_1,billing_city,billing_zip,billing_country,billing_country_iso2,"
        "billing_email,name,sku,quantity,price_ex_tax,price_inc_tax"
    )
    address = "Jane,Doe,1 Road,Austin,78751,United States,US,jane@example.com"
    path = tmp_path / "orders.csv"
    path.write_text(
        "\n".join(
            [
                header,
                f"CSV-1,11,Wire,{address},Widget,W-1,3,10.00,10.00",
                "CSV-1,,,,,,,,,,,Gadget,G-1,1,4.00,4.00",
                f"CSV-2,10,Wire,{address},Widget,W-1,1,10.00,10.00",
                f"CSV-3,11,Wire,{address},Widget,W-1,zero,10.00,10.00",
            ]
        )
        + "\n"
    )
    async with sync_context(store, sqlite_db) as ctx:
        report = await push_file(ctx, PushKind.ORDERS, path)
        assert [(r.line, r.key, r.outcome) for r in report.rows] == [
            (2, "CSV-1", Outcome.CREATED),
            (4, "CSV-2", Outcome.CREATED),
            (5, "CSV-3", Outcome.FAILED),
        ]
        assert "quantity" in report.failed[0].detail
        created = _orders_by_external(store)
        assert [(p.name, p.quantity) for p in created["CSV-1"].products] == [
            ("Widget", 3),
            ("Gadget", 1),
        ]
        again = await push_file(ctx, PushKind.ORDERS, path)
        assert again.count(Outcome.UNCHANGED) == 2
        assert again.count(Outcome.CREATED) == 0


async def test_shipments_move_orders_to_shipped_once(
    store: RunningSandbox, sqlite_db: Database, tmp_path: Path
) -> None:
    orders = _jsonl(tmp_path / "o.jsonl", [_order("SHIP-1"), _order("SHIP-2")])
    shipments = _jsonl(
        tmp_path / "s.jsonl",
        [
            {
                "external_order_id": "SHIP-1",
                "tracking_number": "1Z001",
                "shipping_provider": "ups",
                "items": [{"sku": "W-1", "quantity": 1}],
            },
            {"external_order_id": "SHIP-2", "tracking_number": "1Z002"},
            {"external_order_id": "NOPE", "tracking_number": "1Z003"},
            {
                "external_order_id": "SHIP-1",
                "tracking_number": "1Z004",
                "items": [{"sku": "W-1", "quantity": 5}],
            },
        ],
    )
    async with sync_context(store, sqlite_db) as ctx:
        await push_file(ctx, PushKind.ORDERS, orders)
        report = await push_file(ctx, PushKind.SHIPMENTS, shipments)
        assert [r.outcome for r in report.rows] == [
            Outcome.CREATED,
            Outcome.CREATED,
            Outcome.FAILED,
            Outcome.FAILED,
        ]
        assert "NOPE" in report.rows[2].detail
        assert "1 left to ship, not 5" in report.rows[3].detail
        created = _orders_by_external(store)
        partial, full = created["SHIP-1"], created["SHIP-2"]
        assert partial.status_id == 3
        assert full.status_id == 2
        tracking = [s.tracking_number for s in partial.shipments]
        assert tracking == ["1Z001"]

        again = await push_file(ctx, PushKind.SHIPMENTS, shipments)
        assert [r.outcome for r in again.rows][:2] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
        assert len(partial.shipments) == 1

        rest = tmp_path / "rest.csv"
        rest.write_text("external_order_id,tracking_number,items\nSHIP-1,1Z005,W-1:1;G-1:1\n")
        done = await push_file(ctx, PushKind.SHIPMENTS, rest)
        assert [r.outcome for r in done.rows] == [Outcome.CREATED]
        assert partial.status_id == 2


async def test_invoices_are_created_then_updated_with_details_merged(
    store: RunningSandbox, sqlite_db: Database, tmp_path: Path
) -> None:
    state = store.world.stores[store.config.store_hash]
    company = min(state.companies)
    details = {
        "header": {
            "costLines": [{"description": "Freight", "amount": {"code": "USD", "value": "5"}}]
        },
        "details": {"lineItems": [{"sku": "W-1", "quantity": 2, "description": "Widget"}]},
    }
    base = {
        "external_id": "ERP-INV-1",
        "invoice_number": "ERP-1001",
        "company_id": company,
        "original_balance": "250.00",
        "details": details,
    }
    clash = {**base, "external_id": "ERP-INV-2"}
    path = _jsonl(tmp_path / "i.jsonl", [base, clash, {"external_id": "ERP-INV-3"}])
    async with sync_context(store, sqlite_db) as ctx:
        first = await push_file(ctx, PushKind.INVOICES, path)
        assert [r.outcome for r in first.rows] == [Outcome.CREATED, Outcome.FAILED, Outcome.FAILED]
        assert "already exists" in first.rows[1].detail
        assert "invoice_number" in first.rows[2].detail
        invoice = state.invoices[first.rows[0].resource_id or 0]
        assert invoice.external_id == "ERP-INV-1"
        assert invoice.open_balance.value == 250
        assert invoice.source == 1

        again = await push_file(ctx, PushKind.INVOICES, path)
        assert again.rows[0].outcome is Outcome.UNCHANGED

        change = {
            **base,
            "open_balance": "200.00",
            "details": {"header": {"costLines": [{"description": "Fuel"}]}},
        }
        changed = _jsonl(tmp_path / "u.jsonl", [change])
        updated = await push_file(ctx, PushKind.INVOICES, changed)
        assert updated.rows[0].outcome is Outcome.UPDATED
        assert (await push_file(ctx, PushKind.INVOICES, changed)).rows[0].outcome is (
            Outcome.UNCHANGED
        )
        assert invoice.open_balance.value == 200
        assert invoice.details["header"]["costLines"] == [{"description": "Fuel"}]
        (item,) = invoice.details["details"]["lineItems"]
        assert item["sku"] == "W-1"
        assert item["quantity"] == 2

        csv_path = tmp_path / "i.csv"
        csv_path.write_text(
            "external_id,invoice_number,company_id,original_balance,currency\n"
            f"ERP-INV-4,ERP-1004,{company},80.00,USD\n"
        )
        from_csv = await push_file(ctx, PushKind.INVOICES, csv_path)
        assert [r.outcome for r in from_csv.rows] == [Outcome.CREATED]


def test_details_merge_objects_and_replace_everything_else() -> None:
    stored = {"a": {"b": 1, "c": [1, 2]}, "d": "x"}
    assert merge_details(stored, {"a": {"c": [3]}, "e": 1}) == {
        "a": {"b": 1, "c": [3]},
        "d": "x",
        "e": 1,
    }


def test_csv_rows_without_an_order_id_are_each_reported() -> None:
    header = "external_order_id,billing_email,name,quantity,price_ex_tax,price_inc_tax"
    text = f"{header}\n,a@b.c,Widget,1,1,1\n,a@b.c,Gadget,1,1,1\nOK-1,a@b.c,Widget,1,1,1,extra\n"
    parsed = parse_rows(text, PushKind.ORDERS, "csv")
    assert [line for line, _ in parsed] == [2, 3, 4]
    assert all(isinstance(row, BadRow) for _, row in parsed)
    assert "external_order_id" in parsed[0][1].reason
    assert "more cells" in parsed[2][1].reason


@pytest.mark.parametrize("source", [None, "acme-erp"])
async def test_a_pushed_order_is_in_the_ledger_as_erp_push_and_goes_nowhere_unless_asked(
    store: RunningSandbox, sqlite_db: Database, tmp_path: Path, source: str | None
) -> None:
    external_id = f"ORIGIN-{source or 'default'}"
    row = _order(external_id) | ({"external_source": source} if source else {})
    path = _jsonl(tmp_path / "orders.jsonl", [row])
    # Orders placed through the API carry no orderType metafield: the policy classifies them.
    settings = SyncSettings(
        classification_deadline=timedelta(0), policy=UnclassifiedPolicy.ONLINE_ORDER
    )
    default_erp, asking = Recorder("erp"), Recorder("archive")
    destinations = (
        default_erp.configured(),
        asking.configured(Route(origins=frozenset(OrderOrigin))),
    )
    async with sync_context(store, sqlite_db, destinations=destinations, settings=settings) as ctx:
        pushed = await push_file(ctx, PushKind.ORDERS, path)
        [created] = [r.resource_id for r in pushed.rows if r.outcome is Outcome.CREATED]
        await run_once(ctx)
        await run_once(ctx)
    entries = await ledger(sqlite_db, store.config.store_hash)
    entry = entries[created]
    assert entry.record is not None
    assert entry.record.origin is OrderOrigin.ERP_PUSH
    assert entry.record.external_source == (source or "b2bsync")
    assert created not in {d.order_id for d in default_erp.received}
    assert [d.order_id for d in asking.received].count(created) == 1
    # Every order placed in the store still reaches the default destination.
    placed = {i for i, e in entries.items() if e.record and e.record.origin is OrderOrigin.STORE}
    assert placed
    assert placed <= {d.order_id for d in default_erp.received if d.record.status_id != 0} | {
        i for i in placed if entries[i].status_id == 0
    }
