"""Backoff arithmetic of `domain/retry_schedule.py`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2bsync.domain.retry_schedule import RetrySchedule

NOW = datetime(2026, 3, 1, tzinfo=UTC)
fractions = st.floats(min_value=0, max_value=1, exclude_max=True)


def test_delays_double_from_the_base_until_the_cap_without_jitter() -> None:
    schedule = RetrySchedule(
        base=timedelta(seconds=5), factor=2, cap=timedelta(seconds=60), jitter=0
    )
    delays = [schedule.delay(n, 0.5).total_seconds() for n in range(1, 7)]
    assert delays == [5, 10, 20, 40, 60, 60]


def test_jitter_only_shortens_the_wait() -> None:
    schedule = RetrySchedule(base=timedelta(seconds=10), jitter=0.2)
    assert schedule.delay(1, 0.0) == timedelta(seconds=10)
    assert schedule.delay(1, 0.5) == timedelta(seconds=9)


def test_the_last_attempt_makes_the_row_dead() -> None:
    schedule = RetrySchedule(max_attempts=3, jitter=0)
    assert schedule.next_attempt_at(1, NOW, 0) == NOW + timedelta(seconds=5)
    assert schedule.next_attempt_at(2, NOW, 0) == NOW + timedelta(seconds=10)
    assert not schedule.exhausted(2)
    assert schedule.exhausted(3)
    assert schedule.next_attempt_at(3, NOW, 0) is None


def test_huge_attempt_counts_stay_at_the_cap() -> None:
    schedule = RetrySchedule(cap=timedelta(hours=1), jitter=0, max_attempts=10**6)
    assert schedule.delay(10_000, 0) == timedelta(hours=1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base": timedelta(0)},
        {"base": timedelta(minutes=2), "cap": timedelta(minutes=1)},
        {"factor": 0.5},
        {"jitter": 1.0},
        {"max_attempts": 0},
    ],
)
def test_nonsense_schedules_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="retry schedule"):
        RetrySchedule(**kwargs)  # type: ignore[arg-type]


def test_delay_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="first failed attempt"):
        RetrySchedule().delay(0, 0)
    with pytest.raises(ValueError, match="random_fraction"):
        RetrySchedule().delay(1, 1.0)


@given(
    attempt=st.integers(min_value=1, max_value=200),
    fraction=fractions,
    jitter=st.floats(min_value=0, max_value=0.9),
)
def test_delay_is_bounded_and_never_shrinks_with_more_failures(
    attempt: int, fraction: float, jitter: float
) -> None:
    schedule = RetrySchedule(jitter=jitter, max_attempts=1000)
    delay = schedule.delay(attempt, fraction)
    assert schedule.base * (1 - jitter) - timedelta(microseconds=1) <= delay <= schedule.cap
    assert schedule.delay(attempt + 1, fraction) >= delay
