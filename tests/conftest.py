"""Shared fixtures: the sandbox on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from b2bsync.sandbox.config import DelayRange, Plan, SandboxConfig
from tests.sandbox_server import RunningSandbox, run_sandbox

TEST_TOKEN = "test-token-0123456789abcdef"
TEST_STORE_HASH = "teststore1"


def quiet_config(**overrides: object) -> SandboxConfig:
    """A small, fast, fault-free, unlimited sandbox; tests override what they exercise."""
    base: dict[str, object] = {
        "seed": 7,
        "orders": 60,
        "companies": 5,
        "plan": Plan.UNLIMITED,
        "store_hash": TEST_STORE_HASH,
        "token": TEST_TOKEN,
        "metafield_delay": DelayRange(0.0, 0.0),
        "b2b_record_delay": DelayRange(0.0, 0.0),
        "webhook_duplicate_rate": 0.0,
    }
    base.update(overrides)
    return SandboxConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """One quiet sandbox shared by a test module; tests must not depend on each other's writes
    unless they create what they read."""
    with run_sandbox(quiet_config()) as running:
        yield running
