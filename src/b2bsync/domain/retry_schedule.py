"""When a failed delivery is tried again, and when it gives up: exponential backoff with jitter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Backoff for one destination.

    Attempt *n* (1-based) that failed waits `base * factor**(n-1)`, capped at `cap`, then shortened
    by up to `jitter` of itself so that rows failing together do not all come back at once. After
    `max_attempts` failed attempts the row is dead.
    """

    base: timedelta = timedelta(seconds=5)
    factor: float = 2.0
    cap: timedelta = timedelta(hours=1)
    jitter: float = 0.2
    max_attempts: int = 10

    def __post_init__(self) -> None:
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("a retry schedule needs 0 < base <= cap")
        if self.factor < 1:
            raise ValueError("a retry schedule's factor must be at least 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("a retry schedule's jitter must be in [0, 1)")
        if self.max_attempts < 1:
            raise ValueError("a retry schedule needs at least one attempt")

    def delay(self, failed_attempts: int, random_fraction: float) -> timedelta:
        """The wait after the `failed_attempts`-th failure; `random_fraction` is in [0, 1)."""
        if failed_attempts < 1:
            raise ValueError("delay is defined from the first failed attempt on")
        if not 0 <= random_fraction < 1:
            raise ValueError("random_fraction must be in [0, 1)")
        # Compare exponents in seconds before building a timedelta, which would overflow.
        raw_seconds = self.base.total_seconds() * self.factor ** min(failed_attempts - 1, 64)
        capped = min(raw_seconds, self.cap.total_seconds())
        return timedelta(seconds=capped * (1 - self.jitter * random_fraction))

    def exhausted(self, failed_attempts: int) -> bool:
        """True when no attempt is left after `failed_attempts` failures: the row is dead."""
        return failed_attempts >= self.max_attempts

    def next_attempt_at(
        self, failed_attempts: int, now: datetime, random_fraction: float
    ) -> datetime | None:
        """When to try again after `failed_attempts` failures, or None when it is dead."""
        if self.exhausted(failed_attempts):
            return None
        return now + self.delay(failed_attempts, random_fraction)
