"""What a person reads at a terminal: limits said out loud, columns that do not hide the type,
a resumed backfill that says so."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from b2bsync.cli import app
from tests.acceptance.test_sync_cli import B2BSYNC, environment
from tests.sandbox_server import RunningSandbox

runner = CliRunner()


@pytest.fixture
def synced_env(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    env = environment(sandbox, tmp_path)
    result = runner.invoke(app, ["sync", "--once"], env=env)
    assert result.exit_code == 0, result.output
    return env


def test_orders_list_says_how_many_it_left_out_and_keeps_the_type_whole(
    synced_env: dict[str, str], sandbox: RunningSandbox
) -> None:
    total = sandbox.config.orders
    listed = runner.invoke(
        app, ["orders", "list", "--limit", "10"], env={**synced_env, "COLUMNS": "80"}
    )
    assert listed.exit_code == 0, listed.output
    assert f"Showing the newest 10 of {total} orders (--limit N for more" in " ".join(
        listed.output.split()
    )
    assert "invoice_payment" in listed.output
    assert "invoice_…" not in listed.output
    everything = runner.invoke(app, ["orders", "list", "--limit", "0"], env=synced_env)
    assert f"{total} order(s)" in everything.output


def test_a_backfill_over_a_synced_ledger_says_it_resumed(synced_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["backfill", "--since", "2020-01-01"], env=synced_env)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "resumed from the checkpoint" in said
    assert "Backfill of teststore1 since" not in said


def test_status_lag_counts_from_the_last_successful_read(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = environment(sandbox, tmp_path)
    started = time.monotonic()
    assert runner.invoke(app, ["sync", "--once"], env=env).exit_code == 0
    status = json.loads(runner.invoke(app, ["status", "--no-probe", "--json"], env=env).stdout)
    assert status["lag_s"] is not None
    assert status["lag_s"] <= time.monotonic() - started + 1


def test_orders_show_people_invoice_numbers_and_keep_ids_beside_them_in_json(
    synced_env: dict[str, str], sandbox: RunningSandbox
) -> None:
    invoices = sandbox.world.stores[sandbox.config.store_hash].invoices
    listed = json.loads(
        runner.invoke(app, ["orders", "list", "--limit", "0", "--json"], env=synced_env).stdout
    )
    linked = [row for row in listed if row["invoice_ids"]]
    assert linked
    for row in linked:
        assert row["invoice_numbers"] == [invoices[i].invoice_number for i in row["invoice_ids"]]
    row = linked[0]
    table = runner.invoke(
        app, ["orders", "list", "--limit", "0"], env={**synced_env, "COLUMNS": "200"}
    ).output
    line = next(text for text in table.splitlines() if f" {row['order_id']} " in text)
    assert row["invoice_numbers"][0] in line
    shown = runner.invoke(app, ["orders", "show", str(row["order_id"])], env=synced_env).output
    assert row["invoice_numbers"][0] in shown


def _log_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def test_logs_are_json_off_a_terminal_and_debug_only_with_verbose(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = environment(sandbox, tmp_path)
    quiet = runner.invoke(app, ["sync", "--once"], env=env)
    assert quiet.exit_code == 0, quiet.output
    # The runner's stderr is no terminal: every log line is a JSON object, none at debug.
    lines = [json.loads(line) for line in _log_lines(quiet.stderr)]
    assert "sync.round" in {line["event"] for line in lines}
    assert {line["level"] for line in lines} <= {"info", "warning", "error"}

    verbose = runner.invoke(app, ["-v", "sync", "--once"], env=env)
    assert verbose.exit_code == 0, verbose.output
    events = [json.loads(line) for line in _log_lines(verbose.stderr)]
    assert any(line["level"] == "debug" and line["event"] == "api.request" for line in events)


def test_log_format_console_writes_lines_for_people(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["--log-format", "console", "sync", "--once"], env=environment(sandbox, tmp_path)
    )
    assert result.exit_code == 0, result.output
    lines = _log_lines(result.stderr)
    round_lines = [line for line in lines if "sync.round" in line]
    assert round_lines
    assert "[info" in round_lines[0]
    assert not any(line.startswith("{") for line in lines)


def test_an_unknown_log_format_is_a_usage_error_naming_the_choices(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--log-format", "xml", "status"])
    assert result.exit_code == 2
    assert "xml" in result.output
    assert "console" in result.output


def test_sync_once_at_a_terminal_shows_a_progress_bar_of_the_scan(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    # stderr on a pseudo-terminal, as a person running the command sees it.
    leader, follower = os.openpty()
    env = {**os.environ, **environment(sandbox, tmp_path), "COLUMNS": "120"}
    try:
        finished = subprocess.run(
            [B2BSYNC, "sync", "--once"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=120,
            check=False,
        )
    finally:
        os.close(follower)
    shown = b""
    while select.select([leader], [], [], 0.2)[0]:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert finished.returncode == 0, finished.stdout.decode()
    screen = shown.decode(errors="replace")
    total = sandbox.config.orders
    assert f"{total}/{total}" in screen
    assert "Orders" in screen
    assert "100%" in screen
    assert "orders seen" in finished.stdout.decode()
