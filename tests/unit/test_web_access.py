"""`web/access.py`: who may bind where, and the credentials' checks."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from b2bsync.cli import app
from b2bsync.web.access import Access, AccessError, check_bind, is_loopback

ANY_HOST = "0.0.0.0"  # noqa: S104 (the interface under test)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        (ANY_HOST, False),
        ("::", False),
        ("192.168.1.10", False),
        ("dashboard.example", False),
    ],
)
def test_only_loopback_interfaces_count_as_local(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_binding_beyond_loopback_needs_a_credential() -> None:
    check_bind("127.0.0.1", Access())
    with pytest.raises(AccessError, match="refusing to serve the dashboard on 0\\.0\\.0\\.0"):
        check_bind(ANY_HOST, Access())
    check_bind(ANY_HOST, Access(token=SecretStr("t")))
    check_bind(ANY_HOST, Access(user="ops", password=SecretStr("pw")))


def test_credentials_come_from_the_environment_and_half_a_pair_is_refused() -> None:
    access = Access.from_env({"B2BSYNC_DASHBOARD_TOKEN": " tok "})
    assert access.token is not None
    assert access.token.get_secret_value() == "tok"
    assert not Access.from_env({}).protected
    with pytest.raises(AccessError, match="set both B2BSYNC_DASHBOARD_USER"):
        Access.from_env({"B2BSYNC_DASHBOARD_USER": "ops"})


def test_bearer_basic_and_session_are_checked_exactly() -> None:
    access = Access(token=SecretStr("tok"), user="ops", password=SecretStr("p:w"))
    basic = "Basic " + base64.b64encode(b"ops:p:w").decode()
    assert access.allows("Bearer tok", None)
    assert access.allows(basic, None)
    assert access.allows("", access.session)
    assert not access.allows("Bearer tok2", None)
    assert not access.allows("Basic !!notbase64", None)
    assert not access.allows("", "0" * 64)
    assert access.session is not None
    assert "tok" not in access.session
    assert Access().allows("", None)


def test_the_csrf_token_is_per_process_and_compared_exactly() -> None:
    one, other = Access(), Access()
    assert one.csrf_ok(one.csrf_token)
    assert not one.csrf_ok(other.csrf_token)
    assert not one.csrf_ok(None)


def test_webhooks_serve_refuses_a_public_interface_without_credentials(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["webhooks", "serve", "--host", ANY_HOST, "--secret-dir", str(tmp_path)],
        env={
            "BIGCOMMERCE_STORE_HASH": "abc123",
            "BIGCOMMERCE_ACCESS_TOKEN": "tok",
            "B2BSYNC_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.db",
            "B2BSYNC_DASHBOARD_TOKEN": "",
        },
    )
    assert result.exit_code == 2
    assert "refusing to serve the dashboard on 0.0.0.0 without credentials" in result.output
    assert "Traceback" not in result.output
