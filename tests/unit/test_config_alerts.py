"""`[[alerts]]` in b2bsync.toml: channels from `${VAR}` or files kept secret, conditions,
durations and thresholds, and one-line errors naming the bad setting."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from b2bsync.config import ConfigError, load_settings, parse_alerts, parse_duration
from b2bsync.domain.alerts import Condition

ENV = {"OPS_CHAT_URL": "json://user:s3cret-token@127.0.0.1:9000/hook"}


def test_an_alert_reads_its_channels_conditions_and_thresholds(tmp_path: Path) -> None:
    secret_file = tmp_path / "mail"
    secret_file.write_text("mailto://user:pw-in-file@127.0.0.1:2525?to=ops@example.com\n")
    config = tmp_path / "b2bsync.toml"
    config.write_text(
        f"""
[[alerts]]
name = "ops"
channels = ["${{OPS_CHAT_URL}}"]
channel_files = ["{secret_file}"]
conditions = ["dead_letters", "lag", "dead_letters"]
quiet_period = "45m"
lag_threshold = "2h"
dead_letters_threshold = 5
"""
    )
    (alert,) = load_settings(config, environ=ENV).alerts
    assert alert.name == "ops"
    assert alert.policy.conditions == (Condition.DEAD_LETTERS, Condition.LAG)
    assert alert.policy.quiet_period == timedelta(minutes=45)
    assert alert.policy.thresholds.lag == timedelta(hours=2)
    assert alert.policy.thresholds.dead_letters == 5
    assert alert.policy.thresholds.quarantined == 1
    assert [url.get_secret_value() for url in alert.channels] == [
        ENV["OPS_CHAT_URL"],
        "mailto://user:pw-in-file@127.0.0.1:2525?to=ops@example.com",
    ]
    assert alert.labels() == ["channel 1 (json)", "channel 2 (mailto)"]
    assert "s3cret" not in repr(alert)
    assert "pw-in-file" not in repr(alert)


def test_without_alerts_none_are_configured() -> None:
    assert parse_alerts([], {}) == ()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"name": "ops", "channels": ["json://h"], "conditions": ["disk_full"]},
            "unknown condition 'disk_full'",
        ),
        ({"name": "ops", "channels": ["json://h"]}, "alerts 'ops'.conditions is not set"),
        ({"name": "ops", "conditions": ["lag"]}, "needs at least one entry in channels"),
        (
            {"name": "ops", "channels": ["${MISSING}"], "conditions": ["lag"]},
            "refers to ${MISSING}, which is not set",
        ),
        (
            {"name": "ops", "channels": ["not a url"], "conditions": ["lag"]},
            "alerts 'ops'.channels[0] is not an Apprise URL",
        ),
        (
            {"name": "ops", "channels": ["json://h"], "conditions": ["lag"], "quiet_period": "x"},
            "alerts 'ops'.quiet_period is malformed",
        ),
        (
            {"name": "ops", "channels": ["json://h"], "conditions": ["lag"], "held_threshold": 0},
            "alerts 'ops'.held_threshold must be a whole number",
        ),
        (
            {"name": "ops", "channels": ["json://h"], "conditions": ["lag"], "treshold": 1},
            "alerts[0].treshold is not a setting",
        ),
        ({"channels": ["json://h"], "conditions": ["lag"]}, "alerts[0].name must be"),
    ],
)
def test_a_bad_alert_setting_is_named(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        parse_alerts([table], {})
    assert "json://h" not in str(caught.value)


def test_an_unknown_condition_error_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_alerts([{"name": "ops", "channels": ["json://h"], "conditions": ["disk"]}], {})
    assert "dead_letters, destination_failing, webhook_unhealthy" in str(caught.value)


def test_two_alerts_cannot_share_a_name() -> None:
    table = {"name": "ops", "channels": ["json://h"], "conditions": ["lag"]}
    with pytest.raises(ConfigError, match="used twice"):
        parse_alerts([table, table], {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("15", 15), (45, 45), (1.5, 1.5)],
)
def test_durations(text: object, expected: float) -> None:
    assert parse_duration(text, "x") == timedelta(seconds=expected)


@pytest.mark.parametrize("text", ["0m", "-1m", "soon", True])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ConfigError, match=r"^x "):
        parse_duration(text, "x")
