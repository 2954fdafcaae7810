"""Shared fixtures: the sandbox on loopback, a PostgreSQL database."""

from __future__ import annotations

import os
import uuid
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


POSTGRES_ADMIN_URL = os.environ.get(
    "B2BSYNC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (dropped afterwards), as a psycopg URL.

    Without a server the tests using it are skipped, except under CI
    (`B2BSYNC_REQUIRE_POSTGRES=1`), where that is a failure: a green CI means they ran.
    """
    import psycopg

    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {error}"
        if os.environ.get("B2BSYNC_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    name = f"b2bsync_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
        try:
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_postgres_url(postgres_url: str) -> Iterator[str]:
    """A brand-new PostgreSQL database next to the session's one, dropped afterwards (for
    tests that migrate from empty, or whose processes share one database)."""
    import psycopg

    server = postgres_url.rsplit("/", 1)[0]
    name = f"b2bsync_mig_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
