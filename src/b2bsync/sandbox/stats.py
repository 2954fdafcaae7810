"""Request counters behind `GET /__sandbox/stats`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    requests_total: int = 0
    throttled: int = 0
    faults: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)

    def record(self, operation: str, status: int) -> None:
        """Count one answered request of the BigCommerce API (admin calls are not counted)."""
        self.requests_total += 1
        self.by_operation[operation] += 1
        self.by_status[status] += 1
        if status == 429:
            self.throttled += 1

    def snapshot(self) -> dict[str, Any]:
        """The JSON body of `GET /__sandbox/stats`."""
        return {
            "requests_total": self.requests_total,
            "by_operation": dict(self.by_operation),
            "by_status": {str(code): n for code, n in self.by_status.items()},
            "throttled": self.throttled,
            "faults": self.faults,
        }

    def reset(self) -> None:
        """Start counting from zero (`POST /__sandbox/reset` with `stats_only`)."""
        self.requests_total = self.throttled = self.faults = 0
        self.by_operation.clear()
        self.by_status.clear()
