"""Settings of one sandbox run: the world it seeds and how badly it behaves."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum


class Plan(StrEnum):
    """BigCommerce plans, which set the store API quota per 30 s window."""

    STANDARD = "standard"
    PLUS = "plus"
    PRO = "pro"
    ENTERPRISE = "enterprise"
    UNLIMITED = "unlimited"


STORE_QUOTA_PER_WINDOW: dict[Plan, int | None] = {
    Plan.STANDARD: 150,
    Plan.PLUS: 150,
    Plan.PRO: 450,
    Plan.ENTERPRISE: 1500,
    Plan.UNLIMITED: None,
}
"""Requests per 30 s window (api-rate-limits.mdx); enterprise is plan-specific, 1500 is ours."""

STORE_WINDOW_MS = 30_000
B2B_QUOTA_PER_MINUTE = 150
B2B_WINDOW_MS = 60_000


class FaultProfile(StrEnum):
    """How often the sandbox misbehaves on purpose."""

    NONE = "none"
    FLAKY = "flaky"
    STORM = "storm"


def _token() -> str:
    return secrets.token_hex(16)


def _store_hash() -> str:
    return "sb" + secrets.token_hex(4)


@dataclass(frozen=True, slots=True)
class DelayRange:
    """A random delay in seconds, drawn uniformly from [low, high]."""

    low: float
    high: float


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """Everything `b2bsync sandbox serve` accepts, with the defaults of bigcommerce-api.md §0."""

    seed: int = 42
    orders: int = 500
    companies: int = 20
    plan: Plan = Plan.STANDARD
    latency_ms: int = 0
    faults: FaultProfile = FaultProfile.NONE
    time_scale: float = 1.0
    state_file: str | None = None
    store_hash: str = field(default_factory=_store_hash)
    token: str = field(default_factory=_token)
    extra_store_hashes: tuple[str, ...] = ()
    metafield_delay: DelayRange = DelayRange(0.0, 20.0)
    b2b_record_delay: DelayRange = DelayRange(0.0, 10.0)
    webhook_client_secret: str | None = None
    webhook_duplicate_rate: float = 0.02
    webhook_timeout_s: float = 5.0
    client_id: str = "sandbox-client"

    @property
    def store_hashes(self) -> tuple[str, ...]:
        """Every store this sandbox serves; the first is the primary one."""
        return (self.store_hash, *self.extra_store_hashes)
