"""Write-back rules: make order types and ERP outcomes visible in BigCommerce, without echo.

A rule per order type decides what b2bsync writes: a marker line at the top of `staff_notes`
(replaced, never appended again), optionally a status (set only when it differs, and only from
an open status), a B2B PO number or a B2B extra field. Defaults are safe: notes only.

No echo: our write bumps `date_modified` and fires webhooks. Marker lines and `date_modified`
never count in the content hash; for the other fields (status, PO, extra field) the order's
current ledger record and the caches it is composed from absorb what we wrote, in the
transaction that logs the write, so the next scan composes the same hash and makes no version
and no delivery.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import structlog

from b2bsync.bigcommerce import BigCommerceError
from b2bsync.domain.fingerprint import WRITEBACK_MARKER, content_hash
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.records import InvoiceRole, OrderRecord
from b2bsync.domain.writeback_rules import DEFAULT_RULES, WritebackRule
from b2bsync.store import Database, LedgerEntry, LedgerQuery
from b2bsync.store.writebacks import WritebackEntry
from b2bsync.sync.context import SyncContext

__all__ = [
    "B2B_EXTRA",
    "B2B_PO",
    "MOVABLE_STATUSES",
    "V2_NOTES",
    "V2_STATUS",
    "FieldChange",
    "LiveOrder",
    "PlannedWrite",
    "WritebackReport",
    "money_text",
    "plan_changes",
    "render_note",
    "replace_marker",
    "run_writebacks",
    "writeback_history",
]

log = structlog.get_logger("b2bsync.writeback")

MOVABLE_STATUSES = frozenset({1, 7, 8, 9, 11, 12})
"""Open statuses a rule may move an order out of; never from Incomplete, Shipped, Completed,
Refunded, Cancelled, Declined or Disputed, whose meaning belongs to people and payments."""

V2_NOTES = "v2.staff_notes"
V2_STATUS = "v2.status_id"
B2B_PO = "b2b.po_number"
B2B_EXTRA = "b2b.extra_fields."
"""Write targets as logged; an extra field's target ends with its name."""

_DEFAULT_NOTES = {
    OrderType.INVOICE_PAYMENT: "Invoice payment for {invoices}",
    OrderType.ONLINE_ORDER: "Synced by b2bsync (version {version})",
}
_SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£"}


@dataclass(frozen=True, slots=True)
class LiveOrder:
    """What BigCommerce holds now for the fields a rule may write."""

    staff_notes: str
    status_id: int
    po_number: str | None = None
    """None when the order has no B2B record."""
    extra_fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field a rule changes: `target` as in the log, the value now and the value wanted."""

    target: str
    before: str | None
    after: str


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    """The changes of one order (done, or only shown with `dry_run`)."""

    order_id: int
    order_type: OrderType
    changes: tuple[FieldChange, ...]


@dataclass(slots=True)
class WritebackReport:
    """What a write-back run did, or would do with `dry_run`."""

    dry_run: bool
    writes: list[PlannedWrite] = field(default_factory=list)
    unchanged: int = 0
    """Orders whose rule is already satisfied."""
    failed: dict[int, str] = field(default_factory=dict)


def money_text(amount: Decimal, currency: str) -> str:
    """`$250.00` for known symbols, else `250.00 CHF`."""
    value = f"{amount.quantize(Decimal('0.01')):,}"
    symbol = _SYMBOLS.get(currency.upper())
    return f"{symbol}{value}" if symbol else f"{value} {currency}".strip()


def _invoices_text(record: OrderRecord) -> str:
    parts = []
    for link in record.invoices:
        if link.role is not InvoiceRole.PAID_BY_ORDER:
            continue
        name = link.invoice_number or f"invoice {link.invoice_id}"
        if link.amount is None:
            parts.append(name)
        else:
            parts.append(f"{name} ({money_text(link.amount, link.currency or record.currency)})")
    return ", ".join(parts) or "unknown invoices"


def render_note(rule: WritebackRule, record: OrderRecord, version: int) -> str:
    """The rule's text for this order (without the marker)."""
    template = rule.note_template or _DEFAULT_NOTES.get(record.order_type, "Synced by b2bsync")
    b2b = record.b2b
    return template.format(
        order_id=record.order_id,
        version=version,
        external_order_id=record.external_order_id,
        po_number=b2b.po_number if b2b is not None else "",
        company=b2b.company_name if b2b is not None else "",
        invoices=_invoices_text(record),
    )


def replace_marker(staff_notes: str, text: str) -> str:
    """`staff_notes` with every b2bsync line removed and `[b2bsync] text` put first: writing it
    again gives the same notes, so the rule never appends twice."""
    kept = [
        line for line in staff_notes.splitlines() if not line.lstrip().startswith(WRITEBACK_MARKER)
    ]
    rest = "\n".join(kept).strip()
    marker = f"{WRITEBACK_MARKER} {text}"
    return f"{marker}\n{rest}" if rest else marker


def plan_changes(
    rule: WritebackRule, record: OrderRecord, version: int, live: LiveOrder
) -> tuple[FieldChange, ...]:
    """What `rule` would change on this order now; empty when it is already satisfied."""
    changes: list[FieldChange] = []
    note = render_note(rule, record, version)
    if rule.notes:
        wanted = replace_marker(live.staff_notes, note)
        if wanted != live.staff_notes:
            changes.append(FieldChange(V2_NOTES, live.staff_notes, wanted))
    if (
        rule.status_id is not None
        and live.status_id != rule.status_id
        and live.status_id in MOVABLE_STATUSES
    ):
        changes.append(FieldChange(V2_STATUS, str(live.status_id), str(rule.status_id)))
    if live.po_number is not None and rule.po_number_template is not None:
        b2b = record.b2b
        po = rule.po_number_template.format(
            order_id=record.order_id,
            version=version,
            external_order_id=record.external_order_id,
            po_number=b2b.po_number if b2b is not None else "",
            company=b2b.company_name if b2b is not None else "",
            invoices=_invoices_text(record),
        )
        if po != live.po_number:
            changes.append(FieldChange(B2B_PO, live.po_number, po))
    if live.po_number is not None and rule.extra_field is not None:
        before = live.extra_fields.get(rule.extra_field)
        if before != note:
            changes.append(FieldChange(B2B_EXTRA + rule.extra_field, before, note))
    return tuple(changes)


def _absorbed(record: OrderRecord, changes: Sequence[FieldChange], status: str) -> OrderRecord:
    """The current record as it reads once our changes are in BigCommerce."""
    update: dict[str, object] = {}
    b2b_update: dict[str, object] = {}
    extra = dict(record.b2b.extra_fields) if record.b2b is not None else {}
    for change in changes:
        if change.target == V2_NOTES:
            update["staff_notes"] = change.after
        elif change.target == V2_STATUS:
            update["status_id"] = int(change.after)
            update["status"] = status
        elif change.target == B2B_PO:
            b2b_update["po_number"] = change.after
        elif change.target.startswith(B2B_EXTRA):
            extra[change.target.removeprefix(B2B_EXTRA)] = change.after
            b2b_update["extra_fields"] = extra
    if record.b2b is not None and b2b_update:
        update["b2b"] = record.b2b.model_copy(update=b2b_update)
    return record.model_copy(update=update)


@dataclass(frozen=True, slots=True)
class _Candidate:
    entry: LedgerEntry
    record: OrderRecord
    last_read: OrderRecord
    """The order as the last V2 scan read it (its stored draft), else the ledger's record."""


async def _candidates(
    ctx: SyncContext, rules: Mapping[OrderType, WritebackRule], order_ids: Iterable[int] | None
) -> list[_Candidate]:
    async with ctx.db.transaction(readonly=True) as tx:
        if order_ids is None:
            ids: list[int] = []
            for order_type in rules:
                page = await tx.ledger.list_orders(
                    LedgerQuery(store=ctx.store, order_type=order_type, include_archived=False),
                    page_size=1_000_000,
                )
                ids.extend(item.order_id for item in page.items)
        else:
            ids = list(order_ids)
        entries = await tx.ledger.current(ctx.store, ids)
        drafts = await tx.signals.drafts(ctx.store, list(entries))
    candidates = []
    for order_id in sorted(entries):
        entry = entries[order_id]
        if (
            entry.version > 0
            and entry.record is not None
            and not entry.is_archived
            and entry.order_type in rules
        ):
            last_read = drafts.get(order_id, entry.record)
            candidates.append(_Candidate(entry, entry.record, last_read))
    return candidates


def _as_last_read(candidate: _Candidate) -> LiveOrder:
    """What the last scan saw; when the rule is satisfied by it, no API call is needed."""
    b2b = candidate.record.b2b
    notes, status = candidate.last_read.staff_notes, candidate.last_read.status_id
    if b2b is None or b2b.b2b_order_id is None:
        return LiveOrder(notes, status)
    return LiveOrder(notes, status, b2b.po_number, dict(b2b.extra_fields))


async def _live(ctx: SyncContext, record: OrderRecord) -> LiveOrder:
    """The order's V2 fields as BigCommerce has them now. B2B fields come from the ledger's
    record (the B2B stream keeps it current, and it absorbs our own writes): B2B Edition allows
    150 requests a minute, too few to read every order's record before writing it."""
    order = await ctx.client.orders.get(record.order_id)
    b2b = record.b2b
    if b2b is None or b2b.b2b_order_id is None:
        return LiveOrder(order.staff_notes, order.status_id)
    return LiveOrder(order.staff_notes, order.status_id, b2b.po_number, dict(b2b.extra_fields))


async def _log_and_absorb(
    ctx: SyncContext,
    record: OrderRecord,
    source: str,
    changes: Sequence[FieldChange],
    status: str,
    now: datetime,
) -> OrderRecord:
    """Log `changes` (already written) and let the ledger's current record absorb them."""
    absorbed = _absorbed(record, changes, status)
    async with ctx.db.transaction() as tx:
        writes = tx.writebacks
        await writes.append(
            WritebackEntry(ctx.store, record.order_id, now, source, c.target, c.before, c.after)
            for c in changes
        )
        await writes.absorb(absorbed, content_hash(absorbed), now)
    return absorbed


async def _apply(
    ctx: SyncContext, entry: LedgerEntry, planned: PlannedWrite, now: datetime
) -> None:
    """Write the V2 changes, log them, then the B2B ones: each API's write is logged as soon as
    it succeeded, so a refusal of the second never hides the first."""
    assert entry.record is not None
    source = f"rule:{planned.order_type.value.replace(' ', '_')}"
    v2 = [c for c in planned.changes if c.target in (V2_NOTES, V2_STATUS)]
    b2b = [c for c in planned.changes if c not in v2]
    record = entry.record
    if v2:
        body: dict[str, object] = {
            "staff_notes" if c.target == V2_NOTES else "status_id": (
                c.after if c.target == V2_NOTES else int(c.after)
            )
            for c in v2
        }
        updated = await ctx.client.orders.update(entry.order_id, body)
        status = updated.custom_status or updated.status
        record = await _log_and_absorb(ctx, record, source, v2, status, now)
    if b2b:
        po_number = next((c.after for c in b2b if c.target == B2B_PO), None)
        extra = [
            {"fieldName": c.target.removeprefix(B2B_EXTRA), "fieldValue": c.after}
            for c in b2b
            if c.target.startswith(B2B_EXTRA)
        ]
        await ctx.client.b2b.update_order(
            entry.order_id, po_number=po_number, extra_fields=extra or None
        )
        await _log_and_absorb(ctx, record, source, b2b, record.status, now)


async def run_writebacks(
    ctx: SyncContext,
    rules: Sequence[WritebackRule] = DEFAULT_RULES,
    *,
    dry_run: bool = False,
    order_ids: Iterable[int] | None = None,
) -> WritebackReport:
    """Apply the rules to every versioned order of a ruled type (or only `order_ids`).

    An order the last scan already saw satisfied costs no API call; any other costs one V2
    read (the rule is checked again on what BigCommerce holds now) and at most one write per
    API. With `dry_run` nothing is written or logged; the report lists what would be. An order
    the API refuses is reported in `failed` and the others go on.
    """
    by_type = {rule.order_type: rule for rule in rules}
    report = WritebackReport(dry_run=dry_run)
    for candidate in await _candidates(ctx, by_type, order_ids):
        entry, record = candidate.entry, candidate.record
        assert entry.order_type is not None
        rule = by_type[entry.order_type]
        if not plan_changes(rule, record, entry.version, _as_last_read(candidate)):
            report.unchanged += 1
            continue
        try:
            live = await _live(ctx, record)
            changes = plan_changes(rule, record, entry.version, live)
            if not changes:
                report.unchanged += 1
                continue
            planned = PlannedWrite(entry.order_id, entry.order_type, changes)
            if not dry_run:
                await _apply(ctx, entry, planned, ctx.clock())
                log.info(
                    "writeback.written",
                    store=ctx.store,
                    order_id=entry.order_id,
                    targets=[change.target for change in changes],
                )
            report.writes.append(planned)
        except BigCommerceError as error:
            report.failed[entry.order_id] = str(error)
            log.warning(
                "writeback.failed", store=ctx.store, order_id=entry.order_id, error=str(error)
            )
    return report


async def writeback_history(db: Database, store: str, order_id: int) -> list[WritebackEntry]:
    """Every write b2bsync made to one order (rules and actions), oldest first."""
    async with db.transaction(readonly=True) as tx:
        return await tx.writebacks.for_order(store, order_id)
