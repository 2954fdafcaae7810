"""The quarantine as a user meets it: `sync --once` and `backfill` go on past a malformed record
and say so, `status`, `orders list --state quarantined` and `orders show` name it, and
`replay --quarantined` processes it once it reads clean."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from b2bsync.cli import app
from tests.acceptance.test_sync_cli import environment
from tests.corrupting_proxy import CORRUPTIONS, run_corrupting_proxy
from tests.sandbox_server import RunningSandbox

runner = CliRunner()


def _invoke(args: list[str], env: dict[str, str]) -> str:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def test_a_malformed_b2b_order_is_reported_listed_shown_and_replayed(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with run_corrupting_proxy(sandbox.base_url, CORRUPTIONS["b2b_order"]) as proxy:
        env = environment(dataclasses.replace(sandbox, base_url=proxy.base_url), tmp_path)
        synced = _invoke(["sync", "--once"], env)
        order_id = int(proxy.spoilt[0]["bcOrderId"])
        assert "Quarantined: 1 malformed records set aside (1 b2b_order)" in synced

        backfill = _invoke(["backfill", "--since", "2020-01-01"], env)
        assert "Quarantined: 1 malformed records" in backfill

        status = _invoke(["status", "--no-probe"], env)
        assert "Quarantine: 1 malformed record(s) set aside (1 b2b_order)" in status
        assert "companyId" in status

        listed = json.loads(_invoke(["orders", "list", "--state", "quarantined", "--json"], env))
        assert [(r["stream"], r["order_id"], r["path"]) for r in listed] == [
            ("b2b_order", order_id, "companyId")
        ]
        assert "acme" in listed[0]["payload"]

        shown = json.loads(_invoke(["orders", "show", str(order_id), "--json"], env))
        assert [r["stream"] for r in shown["quarantined"]] == ["b2b_order"]

        proxy.corrupting = False
        replayed = json.loads(_invoke(["replay", "--quarantined", "--json"], env))
        assert (replayed["released"], replayed["still_bad"]) == (1, 0)
        assert (
            json.loads(_invoke(["orders", "list", "--state", "quarantined", "--json"], env)) == []
        )
        assert "Quarantine: empty" in _invoke(["status", "--no-probe"], env)


def test_replay_quarantined_refuses_order_ids(tmp_path: Path, sandbox: RunningSandbox) -> None:
    result = runner.invoke(
        app, ["replay", "--quarantined", "7"], env=environment(sandbox, tmp_path)
    )
    assert result.exit_code == 2
    assert "--quarantined" in result.output


def test_an_unknown_state_is_named_with_the_choices(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    result = runner.invoke(
        app, ["orders", "list", "--state", "lost"], env=environment(sandbox, tmp_path)
    )
    assert result.exit_code == 2
    assert "'lost'" in result.output
    assert "quarantined" in result.output
