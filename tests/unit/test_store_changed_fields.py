"""`changed_fields`: which top-level fields a new ledger version changed."""

from __future__ import annotations

from b2bsync.domain.fingerprint import WRITEBACK_MARKER
from b2bsync.store import changed_fields


def test_only_differing_fields_are_named_in_order() -> None:
    before = {"status_id": 11, "total_inc_tax": "10.0000", "b2b": {"po_number": "A"}}
    after = {"status_id": 2, "total_inc_tax": "10.0000", "b2b": {"po_number": "B"}}
    assert changed_fields(before, after) == ("b2b", "status_id")


def test_date_modified_and_our_own_staff_note_lines_are_not_changes() -> None:
    before = {"date_modified": "2026-03-01T12:00:00Z", "staff_notes": "Call first"}
    after = {
        "date_modified": "2026-03-01T12:05:00Z",
        "staff_notes": f"Call first\n{WRITEBACK_MARKER} exported to ERP",
    }
    assert changed_fields(before, after) == ()


def test_a_field_that_appears_or_disappears_is_a_change() -> None:
    assert changed_fields({"a": 1}, {"a": 1, "b": None}) == ()
    assert changed_fields({"a": 1}, {"a": 1, "b": 2}) == ("b",)
    assert changed_fields({"a": 1, "c": 3}, {"a": 1}) == ("c",)
