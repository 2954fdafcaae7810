"""Alerts as a user meets them: `sync --once` against a loopback sandbox fires an alert when its
deliveries become dead letters, a channel that is down does not fail the sync and gets the
firing at the next round; `alerts list [--json]` and `alerts test` (ok and failed channels,
exit 1), never printing a channel's URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from b2bsync.cli import app
from tests.conftest import quiet_config
from tests.receivers import run_notification_receiver, run_receiver, run_smtp_server
from tests.sandbox_server import RunningSandbox, free_port, run_sandbox

runner = CliRunner()
SECRET_TOKEN = "tok-hunter2-secret"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(quiet_config(orders=5)) as running:
        yield running


@pytest.fixture
def workdir(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Environment for a store synced into an `http` destination that refuses every delivery
    (its receiver expects another signing secret): every order becomes a dead letter."""
    monkeypatch.chdir(tmp_path)
    for name in ("B2BSYNC_CONFIG", "STORE_HASH", "ACCESS_TOKEN", "B2BSYNC_DESTINATIONS"):
        monkeypatch.delenv(name, raising=False)
    with run_receiver(secret="a-different-secret-0123456789") as refusing:
        values = {
            "BIGCOMMERCE_STORE_HASH": sandbox.config.store_hash,
            "BIGCOMMERCE_ACCESS_TOKEN": sandbox.config.token,
            "BIGCOMMERCE_API_URL": sandbox.base_url,
            "B2B_API_URL": f"{sandbox.base_url}/b2b",
            "B2BSYNC_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.db",
            "B2BSYNC_DESTINATIONS": json.dumps(
                [
                    {
                        "type": "http",
                        "name": "erp",
                        "url": refusing.url,
                        "secret": "the-secret-b2bsync-signs-with",
                    }
                ]
            ),
        }
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        yield tmp_path


def write_config(path: Path, *channels: str) -> None:
    listed = ", ".join(json.dumps(channel) for channel in channels)
    (path / "b2bsync.toml").write_text(
        f"""
[[alerts]]
name = "ops"
channels = [{listed}]
conditions = ["dead_letters", "lag"]
quiet_period = "30m"
send_timeout = "5s"
"""
    )


def test_sync_once_fires_and_a_down_channel_is_retried_at_the_next_round(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    down_port = free_port()
    monkeypatch.setenv("DOWN_CHANNEL", f"json://user:{SECRET_TOKEN}@127.0.0.1:{down_port}/a")
    with run_notification_receiver() as chat:
        write_config(workdir, f"json://{chat.url}/alerts", "${DOWN_CHANNEL}")
        first = runner.invoke(app, ["sync", "--once", "--json"])
        assert first.exit_code == 0, first.output
        report = json.loads(first.output.splitlines()[-1])
        assert report["dead_letters"] > 0
        (event,) = report["alerts"]["recorded"]
        assert (event["condition"], event["state"]) == ("dead_letters", "fired")
        assert [f["channel"] for f in report["alerts"]["failed_channels"]] == ["channel 2 (json)"]
        ((path, body),) = chat.received
        assert path == "/alerts"
        assert body["title"].startswith("b2bsync ops: dead_letters firing")

        listed = runner.invoke(app, ["alerts", "list", "--json"])
        assert listed.exit_code == 0, listed.output
        (stored,) = json.loads(listed.output)["events"]
        assert stored["delivery"] == "pending"
        assert stored["last_error"].startswith("channel 2 (json): ")

        with run_notification_receiver(down_port) as recovered:
            again = runner.invoke(app, ["sync", "--once"])
            assert again.exit_code == 0, again.output
        assert len(recovered.received) == 1
        assert len(chat.received) == 1
    listed = runner.invoke(app, ["alerts", "list"])
    assert listed.exit_code == 0
    assert "dead_letters" in listed.output
    assert "sent" in listed.output
    assert "Firing now: ops/dead_letters" in listed.output
    for output in (first.output, again.output, listed.output):
        assert SECRET_TOKEN not in output
        assert str(down_port) not in output


def test_alerts_test_reports_each_channel_and_fails_when_one_is_down(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    down_port = free_port()
    monkeypatch.setenv("DOWN_CHANNEL", f"json://user:{SECRET_TOKEN}@127.0.0.1:{down_port}/a")
    with run_smtp_server() as smtp, run_notification_receiver() as chat:
        mail = f"mailto://127.0.0.1:{smtp.port}?from=b2bsync@example.com&to=ops@example.com"
        write_config(workdir, mail, f"json://{chat.url}/alerts")
        ok = runner.invoke(app, ["alerts", "test"])
        assert ok.exit_code == 0, ok.output
        assert "ops channel 1 (mailto): ok" in ok.output
        assert "ops channel 2 (json): ok" in ok.output
        assert len(smtp.messages) == 1
        assert smtp.messages[0][2]["Subject"] == "b2bsync: test notification"
        assert len(chat.received) == 1

        write_config(workdir, f"json://{chat.url}/alerts", "${DOWN_CHANNEL}")
        failed = runner.invoke(app, ["alerts", "test", "--json"])
    assert failed.exit_code == 1
    results = json.loads(failed.output.splitlines()[-1])
    assert [(r["channel"], r["ok"]) for r in results] == [
        ("channel 1 (json)", True),
        ("channel 2 (json)", False),
    ]
    assert SECRET_TOKEN not in failed.output


def test_an_unknown_condition_is_a_one_line_error(workdir: Path) -> None:
    (workdir / "b2bsync.toml").write_text(
        '[[alerts]]\nname = "ops"\nchannels = ["json://h/x"]\nconditions = ["disk_full"]\n'
    )
    result = runner.invoke(app, ["alerts", "list"])
    assert result.exit_code == 2
    assert "unknown condition 'disk_full'" in result.output


def test_alerts_test_without_alerts_says_so(workdir: Path) -> None:
    result = runner.invoke(app, ["alerts", "test"])
    assert result.exit_code == 2
    assert "no [[alerts]] is configured" in result.output
