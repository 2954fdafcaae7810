"""`b2bsync db upgrade` creates the job queue on PostgreSQL once; `worker` and `run --role web`
refuse what cannot work with one line."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import httpx2
import psycopg
import pytest
from typer.testing import CliRunner

from b2bsync.cli import app
from b2bsync.store import Database
from tests.integration.webhook_support import healthy, wait_for
from tests.integration.worker_support import CLI
from tests.sandbox_server import free_port

STORE_ENV = ("BIGCOMMERCE_STORE_HASH", "STORE_HASH", "BIGCOMMERCE_ACCESS_TOKEN", "ACCESS_TOKEN")

runner = CliRunner()


@pytest.mark.postgres
def test_db_upgrade_creates_the_job_queue_once(empty_postgres_url: str) -> None:
    first = runner.invoke(app, ["db", "upgrade", "--database-url", empty_postgres_url])
    assert first.exit_code == 0, first.output
    assert "created the job queue tables" in first.output
    again = runner.invoke(app, ["db", "upgrade", "--database-url", empty_postgres_url])
    assert again.exit_code == 0, again.output
    assert "job queue" not in again.output
    assert "already at" in again.output
    with psycopg.connect(empty_postgres_url) as conn:
        row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
    assert row == ("procrastinate_jobs",)


def _config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "b2bsync.toml"
    path.write_text(
        f'database_url = "{database_url}"\n[bigcommerce]\nstore_hash = "abc"\n'
        'access_token = "t0ken"\n',
        encoding="utf-8",
    )
    return path


def test_workers_need_postgresql(tmp_path: Path) -> None:
    config = _config(tmp_path, f"sqlite:///{tmp_path}/b2bsync.db")
    result = runner.invoke(app, ["worker", "--config", str(config)])
    assert result.exit_code == 2
    assert "database_url: workers need PostgreSQL; the database_url is sqlite" in result.output


def test_the_web_role_needs_postgresql_and_says_so_in_its_own_words(tmp_path: Path) -> None:
    config = _config(tmp_path, f"sqlite:///{tmp_path}/b2bsync.db")
    result = runner.invoke(app, ["run", "--role", "web", "--config", str(config)])
    assert result.exit_code == 2
    assert result.output.startswith(
        "Error: database_url: `run --role web` needs PostgreSQL; the database_url is sqlite "
        "(on SQLite, `run --role all` serves the dashboard and syncs in one process)"
    )
    assert "worker" not in result.output


def _start_web(config: Path, port: int) -> subprocess.Popen[bytes]:
    """`run --role web` in its own process, without any store variable, logging beside
    `config`."""
    env = {k: v for k, v in os.environ.items() if k not in STORE_ENV}
    with config.with_name("web.log").open("wb") as log:
        return subprocess.Popen(
            [*CLI, "run", "--role", "web", "--port", str(port), "--config", str(config)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=config.parent,
        )


@pytest.mark.postgres
async def test_the_web_role_serves_the_dashboard_without_a_store(
    tmp_path: Path, empty_postgres_url: str
) -> None:
    await _ledger_only(empty_postgres_url)
    config = tmp_path / "b2bsync.toml"
    config.write_text(f'database_url = "{empty_postgres_url}"\n', encoding="utf-8")
    port = free_port()
    web = _start_web(config, port)
    try:
        await wait_for(lambda: healthy(f"http://127.0.0.1:{port}"), limit_s=20)
        async with httpx2.AsyncClient() as http:
            page = await http.get(f"http://127.0.0.1:{port}/")
        assert page.status_code == 200
    finally:
        web.terminate()
        web.wait(timeout=10)
    assert "STORE_HASH" not in (tmp_path / "web.log").read_text()


async def _ledger_only(url: str) -> None:
    async with Database(url) as db:
        await db.upgrade()


@pytest.mark.postgres
def test_a_worker_without_the_job_queue_says_to_upgrade(
    tmp_path: Path,
    empty_postgres_url: str,
) -> None:
    asyncio.run(_ledger_only(empty_postgres_url))
    result = runner.invoke(app, ["worker", "--config", str(_config(tmp_path, empty_postgres_url))])
    assert result.exit_code == 1
    assert "the job queue tables are missing: run `b2bsync db upgrade`" in result.output


def test_webhooks_install_names_an_unknown_store(tmp_path: Path) -> None:
    config = _config(tmp_path, f"sqlite:///{tmp_path}/b2bsync.db")
    install = ["webhooks", "install", "--url", "https://x.example", "--store", "nope"]
    result = runner.invoke(app, [*install, "--secret-dir", str(tmp_path), "--config", str(config)])
    assert result.exit_code == 2
    assert "--store nope is not a configured store; expected one of abc" in result.output
    assert not list(tmp_path.glob("webhook-secret-*"))
