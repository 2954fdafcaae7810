"""`b2bsync db upgrade` creates the job queue on PostgreSQL once; `worker` and `run --role web`
refuse what cannot work with one line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from b2bsync.cli import app
from b2bsync.store import Database

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


@pytest.mark.parametrize("args", [["worker"], ["run", "--role", "web"]])
def test_workers_and_the_web_role_need_postgresql(tmp_path: Path, args: list[str]) -> None:
    config = _config(tmp_path, f"sqlite:///{tmp_path}/b2bsync.db")
    result = runner.invoke(app, [*args, "--config", str(config)])
    assert result.exit_code == 2
    assert "database_url: workers need PostgreSQL; the database_url is sqlite" in result.output


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
