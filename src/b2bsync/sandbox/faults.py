"""Deliberate misbehaviour: 5xx, slow answers, dropped connections and bare 429s.

The profile can change at run time (`POST /__sandbox/faults`). Draws come from a seeded RNG so
a run with the same seed and request sequence misbehaves the same way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from b2bsync.sandbox.config import FaultProfile


class FaultKind(StrEnum):
    SERVER_ERROR = "server_error"
    SLOW = "slow"
    DROP = "drop"
    BARE_429 = "bare_429"


@dataclass(frozen=True, slots=True)
class FaultRates:
    """Probability of each fault per request; they are mutually exclusive."""

    server_error: float = 0.0
    slow: float = 0.0
    drop: float = 0.0
    bare_429: float = 0.0
    slow_seconds: tuple[float, float] = (0.2, 1.0)


PROFILES: dict[FaultProfile, FaultRates] = {
    FaultProfile.NONE: FaultRates(),
    FaultProfile.FLAKY: FaultRates(server_error=0.03, slow=0.02, drop=0.01, bare_429=0.01),
    FaultProfile.STORM: FaultRates(server_error=0.15, slow=0.10, drop=0.05, bare_429=0.08),
}


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    status: int = 0
    delay_s: float = 0.0


class FaultInjector:
    """Picks, per request, whether and how to misbehave."""

    def __init__(self, profile: FaultProfile, seed: int) -> None:
        self._rng = random.Random(seed ^ 0x5EED)
        self.profile = profile
        self.rates = PROFILES[profile]
        self.injected = 0

    def set_profile(self, profile: FaultProfile, rates: FaultRates | None = None) -> None:
        """Switch to a named profile, or to explicit rates under that name."""
        self.profile = profile
        self.rates = rates or PROFILES[profile]

    def pick(self) -> Fault | None:
        """The fault for the next request, or None to answer normally."""
        rates = self.rates
        draw = self._rng.random()
        fault: Fault | None = None
        if draw < rates.server_error:
            fault = Fault(FaultKind.SERVER_ERROR, status=self._rng.choice((500, 502, 503)))
        elif (draw := draw - rates.server_error) < rates.slow:
            fault = Fault(FaultKind.SLOW, delay_s=self._rng.uniform(*rates.slow_seconds))
        elif (draw := draw - rates.slow) < rates.drop:
            fault = Fault(FaultKind.DROP)
        elif draw - rates.drop < rates.bare_429:
            fault = Fault(FaultKind.BARE_429, status=429)
        if fault is not None:
            self.injected += 1
        return fault
