"""Column reading and writing: UTCDateTime on SQLite writes and reads exactly the text
SQLAlchemy's DATETIME does, so a ledger written before keeps sorting, comparing and reading the
same; outbox rows are read column by column into their fields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from b2bsync.store.outbox import OUTBOX_COLUMNS, OutboxRow
from b2bsync.store.types import UTCDateTime

SQLITE = sqlite.dialect()


def _present(processor: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    assert processor is not None
    return processor


_OURS_BIND = _present(UTCDateTime().bind_processor(SQLITE))
_OURS_RESULT = _present(UTCDateTime().result_processor(SQLITE, None))
_SA_BIND = _present(sqlite.DATETIME().bind_processor(SQLITE))
_SA_RESULT = _present(sqlite.DATETIME().result_processor(SQLITE, None))

_offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
_aware = st.datetimes(
    min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30), timezones=_offsets
)


@given(_aware)
def test_the_stored_text_is_sqlalchemys(value: datetime) -> None:
    stored = _OURS_BIND(value)
    assert stored == _SA_BIND(value.astimezone(UTC).replace(tzinfo=None))


@given(_aware)
def test_a_stored_value_reads_back_as_the_same_utc_instant(value: datetime) -> None:
    stored = _OURS_BIND(value)
    read = _OURS_RESULT(stored)
    assert read == value
    assert read.tzinfo is UTC
    assert read == _SA_RESULT(stored).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Written by SQL itself (CURRENT_TIMESTAMP, a date) rather than by SQLAlchemy.
        ("2026-03-01 12:00:00", datetime(2026, 3, 1, 12, tzinfo=UTC)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
    ],
)
def test_text_without_microseconds_reads_as_sqlalchemy_reads_it(
    text: str, expected: datetime
) -> None:
    assert _OURS_RESULT(text) == expected == _SA_RESULT(text).replace(tzinfo=UTC)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        _OURS_BIND(datetime(2026, 3, 1, 12))
    assert _OURS_BIND(None) is None


def test_the_outbox_columns_are_the_outbox_rows_fields_in_order() -> None:
    # `outbox_row` pairs the selected columns with OutboxRow's fields by position.
    assert [column.name for column in OUTBOX_COLUMNS] == [field.name for field in fields(OutboxRow)]
