"""`b2bsync db upgrade` and `b2bsync db current` against real databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from b2bsync.cli import app
from b2bsync.store import DATABASE_URL_ENV

runner = CliRunner()


def test_upgrade_creates_the_schema_in_a_new_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "b2bsync.db"
    url = f"sqlite:///{path}"
    result = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "migrated from empty to 0008" in result.output
    assert path.is_file()
    again = runner.invoke(app, ["db", "upgrade"], env={DATABASE_URL_ENV: url})
    assert again.exit_code == 0, again.output
    assert "already at revision 0008" in again.output
    current = runner.invoke(app, ["db", "current", "--json"], env={DATABASE_URL_ENV: url})
    assert current.exit_code == 0, current.output
    assert json.loads(current.output) == {
        "database": url,
        "revision": "0008",
        "head": "0008",
        "up_to_date": True,
    }


def test_db_commands_use_the_database_url_of_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    configured = tmp_path / "configured.db"
    Path("b2bsync.toml").write_text(f'database_url = "sqlite:///{configured}"\n')
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert configured.is_file()
    assert not (tmp_path / ".b2bsync").exists()  # no stray default SQLite file
    current = runner.invoke(app, ["db", "current", "--json"])
    assert current.exit_code == 0, current.output
    assert json.loads(current.output)["database"] == f"sqlite:///{configured}"
    # --config names another file; the environment wins over it, the flag over both.
    other = tmp_path / "other.toml"
    other.write_text(f'database_url = "sqlite:///{tmp_path}/other.db"\n')
    named = runner.invoke(app, ["db", "current", "--json", "--config", str(other)])
    assert json.loads(named.output)["database"] == f"sqlite:///{tmp_path}/other.db"
    from_env = runner.invoke(
        app, ["db", "current", "--json"], env={DATABASE_URL_ENV: f"sqlite:///{tmp_path}/env.db"}
    )
    assert json.loads(from_env.output)["database"] == f"sqlite:///{tmp_path}/env.db"
    flag = runner.invoke(
        app,
        ["db", "current", "--json", "--database-url", f"sqlite:///{tmp_path}/flag.db"],
        env={DATABASE_URL_ENV: f"sqlite:///{tmp_path}/env.db"},
    )
    assert json.loads(flag.output)["database"] == f"sqlite:///{tmp_path}/flag.db"


def test_current_on_an_empty_database_says_so(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["db", "current", "--database-url", f"sqlite:///{tmp_path}/empty.db"]
    )
    assert result.exit_code == 0, result.output
    assert "is empty" in result.output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://user@host/db", "unsupported database URL scheme 'mysql'"),
        ("postgresql+asyncpg://user@host/db", "unsupported database URL scheme"),
        ("sqlite://", "in-memory SQLite"),
        ("not a url", "not a database URL"),
    ],
)
def test_an_unsupported_url_is_one_clear_line_not_a_traceback(url: str, message: str) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


@pytest.mark.postgres
def test_upgrade_on_postgres_hides_the_password(postgres_url: str) -> None:
    url = postgres_url.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    result = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    assert "0008" in result.output


def test_the_installed_command_runs_the_default_database_in_the_working_directory(
    tmp_path: Path,
) -> None:
    env = {key: value for key, value in os.environ.items() if key != DATABASE_URL_ENV}
    script = "from b2bsync.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", script, "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ".b2bsync" / "b2bsync.db").is_file()
