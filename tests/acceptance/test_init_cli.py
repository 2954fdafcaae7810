"""`b2bsync init`: a new user's first configuration works as written, keeps the token out of it,
and a wrong store hash or token is named before anything is written."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from b2bsync.cli import app
from tests.sandbox_server import RunningSandbox

runner = CliRunner()

_ENV = (
    "B2BSYNC_CONFIG",
    "B2BSYNC_DATABASE_URL",
    "B2BSYNC_DESTINATIONS",
    "BIGCOMMERCE_STORE_HASH",
    "BIGCOMMERCE_ACCESS_TOKEN",
    "BIGCOMMERCE_API_URL",
    "B2B_API_URL",
    "STORE_HASH",
    "ACCESS_TOKEN",
)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _init(sandbox: RunningSandbox, *extra: str, store_hash: str | None = None) -> object:
    return runner.invoke(
        app,
        [
            "init",
            "--sandbox",
            sandbox.base_url,
            "--store-hash",
            store_hash or sandbox.config.store_hash,
            "--access-token",
            sandbox.config.token,
            *extra,
        ],
    )


def test_init_writes_a_config_that_syncs_as_it_is(sandbox: RunningSandbox, workdir: Path) -> None:
    result = _init(sandbox)
    assert result.exit_code == 0, result.output
    config = (workdir / "b2bsync.toml").read_text()
    assert sandbox.config.token not in config
    token_file = workdir / ".b2bsync/secrets" / f"{sandbox.config.store_hash}.token"
    assert token_file.read_text().strip() == sandbox.config.token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700
    assert sandbox.config.token not in result.output

    synced = runner.invoke(app, ["sync", "--once", "--json"])
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.stdout)["orders"] == sandbox.config.orders
    assert (workdir / ".b2bsync/deliveries.jsonl").stat().st_size > 0

    again = _init(sandbox)
    assert again.exit_code == 2
    assert "exists" in again.output
    assert _init(sandbox, "--force").exit_code == 0


def test_a_wrong_store_hash_is_named_and_nothing_is_written(
    sandbox: RunningSandbox, workdir: Path
) -> None:
    result = _init(sandbox, store_hash="nosuchstore")
    assert result.exit_code == 1
    assert "no store 'nosuchstore'" in result.output
    assert not (workdir / "b2bsync.toml").exists()
    assert not (workdir / ".b2bsync/secrets").exists()
