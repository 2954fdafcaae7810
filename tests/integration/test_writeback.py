"""Write-back rules against the sandbox on loopback: marker lines, statuses, B2B fields, the log,
dry runs, and the echo case (a full sync after a write-back creates no version, no delivery)."""

from __future__ import annotations

from b2bsync.domain.order_type import OrderType
from b2bsync.domain.sync_state import SyncState
from b2bsync.store import Database
from b2bsync.sync import process_changes, run_once
from b2bsync.sync.loopback.writeback import (
    B2B_EXTRA,
    B2B_PO,
    DEFAULT_RULES,
    V2_NOTES,
    V2_STATUS,
    WritebackRule,
    run_writebacks,
    writeback_history,
)
from tests.conftest import quiet_config
from tests.integration.sync_support import (
    Recorder,
    any_db,
    ledger,
    put_order,
    sqlite_db,
    sync_context,
)
from tests.sandbox_server import run_sandbox

__all__ = ["any_db", "sqlite_db"]

COMPLETED = 10

RULES = (
    WritebackRule(order_type=OrderType.INVOICE_PAYMENT, status_id=COMPLETED),
    WritebackRule(order_type=OrderType.ONLINE_ORDER, extra_field="Buyer Notes"),
)


async def test_rules_write_once_log_everything_and_cause_no_echo(any_db: Database) -> None:
    recorder = Recorder()
    with run_sandbox(quiet_config(orders=30, seed=11)) as sandbox:
        async with sync_context(sandbox, any_db, destinations=(recorder.configured(),)) as ctx:
            await run_once(ctx)
            delivered = len(recorder.received)
            entries = await ledger(any_db, ctx.store)
            payments = {
                i
                for i, e in entries.items()
                if e.order_type is OrderType.INVOICE_PAYMENT and not e.is_archived
            }
            assert payments

            report = await run_writebacks(ctx, RULES)
            state = sandbox.world.stores[ctx.store]
            # B2B Edition refuses extra-field updates of orders missing a required field; the
            # refusal is reported and the order's V2 write still went through and was logged.
            for order_id, reason in report.failed.items():
                assert "Cost Center is a required extra field" in reason, reason
                assert state.orders[order_id].staff_notes.startswith("[b2bsync] ")
                logged = await writeback_history(any_db, ctx.store, order_id)
                assert [entry.target for entry in logged] == [V2_NOTES]
            written = {write.order_id: write for write in report.writes}
            assert payments <= set(written)
            for order_id in payments:
                order = state.orders[order_id]
                record = entries[order_id].record
                assert record is not None
                first, *_ = order.staff_notes.splitlines()
                numbers = [link.invoice_number for link in record.invoices]
                assert first.startswith("[b2bsync] Invoice payment for "), first
                assert all(number and number in first for number in numbers), (first, numbers)
                assert order.staff_notes.count("[b2bsync]") == 1
                assert order.status_id == COMPLETED
                targets = {change.target for change in written[order_id].changes}
                assert {V2_NOTES, V2_STATUS} <= targets
            b2b_online = [
                i
                for i, e in entries.items()
                if e.order_type is OrderType.ONLINE_ORDER
                and e.record is not None
                and e.record.b2b is not None
                and not e.is_archived
            ]
            assert set(b2b_online) - set(report.failed)
            for order_id in set(b2b_online) - set(report.failed):
                changes = {c.target: c for c in written[order_id].changes}
                assert B2B_EXTRA + "Buyer Notes" in changes
                extra = {
                    f.field_name: f.field_value for f in state.b2b_orders[order_id].extra_fields
                }
                assert extra["Buyer Notes"] == changes[B2B_EXTRA + "Buyer Notes"].after
                assert extra["Buyer Notes"].startswith("Synced by b2bsync (version 1)")

            history = await writeback_history(any_db, ctx.store, min(payments))
            assert {entry.target for entry in history} >= {V2_NOTES, V2_STATUS}
            notes = next(entry for entry in history if entry.target == V2_NOTES)
            assert notes.after is not None
            assert notes.after.startswith("[b2bsync] ")
            assert notes.before == "" or "[b2bsync]" not in (notes.before or "")

            # Recomposed from stored drafts (as when only a signal changed), nothing changed.
            recomposed = await process_changes(ctx, written, ctx.clock())
            assert recomposed.versions == 0
            assert recomposed.unchanged == len(written)

            echo = await run_once(ctx)
            assert echo.poll.orders_read >= len(written), "the write-back must be seen again"
            assert echo.poll.processed.versions == 0
            assert echo.recheck.processed.versions == 0
            assert echo.delivery.delivered == 0
            assert len(recorder.received) == delivered

            calls = ctx.calls.count
            again = await run_writebacks(ctx, RULES)
            # Satisfied orders cost nothing: only the refused ones are read and tried again.
            assert ctx.calls.count - calls == 2 * len(report.failed)
            assert again.writes == []
            assert again.unchanged == report.unchanged + len(report.writes)
            assert set(again.failed) == set(report.failed)

            # A real change after the write-back is still a change.
            target = min(payments)
            before = state.orders[target].staff_notes
            await put_order(sandbox, target, {"staff_notes": before + "\nCall the buyer"})
            after = await run_once(ctx)
            assert after.poll.processed.versions == 1
            assert len(recorder.received) == delivered + 1
            entry = (await ledger(any_db, ctx.store))[target]
            assert entry.sync_state is SyncState.DELIVERED
            assert entry.version == 2


async def test_dry_run_shows_the_plan_and_writes_nothing(sqlite_db: Database) -> None:
    with run_sandbox(quiet_config(orders=25, seed=12)) as sandbox:
        async with sync_context(sandbox, sqlite_db) as ctx:
            await run_once(ctx)
            state = sandbox.world.stores[ctx.store]
            notes_before = {i: o.staff_notes for i, o in state.orders.items()}
            status_before = {i: o.status_id for i, o in state.orders.items()}

            plan = await run_writebacks(ctx, RULES, dry_run=True)
            assert plan.dry_run
            assert plan.writes
            assert {i: o.staff_notes for i, o in state.orders.items()} == notes_before
            assert {i: o.status_id for i, o in state.orders.items()} == status_before
            for write in plan.writes:
                assert await writeback_history(sqlite_db, ctx.store, write.order_id) == []

            done = await run_writebacks(ctx, RULES)
            expected = [w for w in plan.writes if w.order_id not in done.failed]
            assert len(expected) > len(done.failed)
            assert [w.order_id for w in done.writes] == [w.order_id for w in expected]
            assert [w.changes for w in done.writes] == [w.changes for w in expected]


async def test_default_rules_only_write_notes(sqlite_db: Database) -> None:
    with run_sandbox(quiet_config(orders=20, seed=13)) as sandbox:
        async with sync_context(sandbox, sqlite_db) as ctx:
            await run_once(ctx)
            state = sandbox.world.stores[ctx.store]
            status_before = {i: o.status_id for i, o in state.orders.items()}
            report = await run_writebacks(ctx)
            assert report.writes
            assert {c.target for w in report.writes for c in w.changes} == {V2_NOTES}
            assert {i: o.status_id for i, o in state.orders.items()} == status_before
            one = report.writes[0].order_id
            assert state.orders[one].staff_notes.startswith("[b2bsync] ")
            assert (await run_writebacks(ctx, order_ids=[one])).unchanged == 1


async def test_a_po_number_rule_sets_the_b2b_po_once_without_echo(sqlite_db: Database) -> None:
    recorder = Recorder()
    rule = WritebackRule(
        order_type=OrderType.ONLINE_ORDER, notes=False, po_number_template="ERP-{order_id}"
    )
    with run_sandbox(quiet_config(orders=20, seed=14)) as sandbox:
        async with sync_context(sandbox, sqlite_db, destinations=(recorder.configured(),)) as ctx:
            await run_once(ctx)
            delivered = len(recorder.received)
            report = await run_writebacks(ctx, [rule])
            assert report.writes
            state = sandbox.world.stores[ctx.store]
            for write in report.writes:
                assert [c.target for c in write.changes] == [B2B_PO]
                assert state.b2b_orders[write.order_id].po_number == f"ERP-{write.order_id}"
            entries = await ledger(sqlite_db, ctx.store)
            for write in report.writes:
                record = entries[write.order_id].record
                assert record is not None
                assert record.b2b is not None
                assert record.b2b.po_number == f"ERP-{write.order_id}"

            echo = await run_once(ctx)
            assert echo.poll.processed.versions == 0
            assert len(recorder.received) == delivered
            again = await run_writebacks(ctx, [rule])
            assert again.writes == []
            assert set(again.failed) == set(report.failed)


async def test_configured_rules_run_in_every_sync_round_without_echo(sqlite_db: Database) -> None:
    with run_sandbox(quiet_config(orders=20, seed=17)) as sandbox:
        async with sync_context(sandbox, sqlite_db) as ctx:
            ctx.writeback_rules = DEFAULT_RULES
            first = await run_once(ctx)
            assert first.writebacks is not None
            written = {write.order_id for write in first.writebacks.writes}
            assert written
            state = sandbox.world.stores[ctx.store]
            assert all(state.orders[i].staff_notes.startswith("[b2bsync] ") for i in written)
            # Our notes bumped date_modified and fired webhooks; the next round must see no change.
            second = await run_once(ctx)
            assert second.poll.processed.versions == 0
            assert second.delivery.delivered == 0
            assert second.writebacks is not None
            assert second.writebacks.writes == []
