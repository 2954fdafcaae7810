"""The alert decisions: fire when a condition starts, repeat at most once per quiet period while
it holds, resolve once when it ends; and each condition's threshold."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from b2bsync.domain.alerts import (
    AlertPolicy,
    AlertState,
    Condition,
    ConditionCheck,
    HealthSnapshot,
    Standing,
    Thresholds,
    check,
    decide,
    evaluate,
    next_standing,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
QUIET = timedelta(minutes=30)
HOLDS = ConditionCheck(True, "3 dead letters in store s1")
CLEAR = ConditionCheck(False, "0 dead letters in store s1")


def test_a_condition_that_starts_fires() -> None:
    decision = decide(Condition.DEAD_LETTERS, HOLDS, None, T0, QUIET)
    assert decision is not None
    assert decision.state is AlertState.FIRED
    assert decision.message == HOLDS.message


def test_it_stays_quiet_within_the_quiet_period_then_repeats() -> None:
    fired = Standing(active=True, last_fired_at=T0)
    assert decide(Condition.DEAD_LETTERS, HOLDS, fired, T0 + QUIET / 2, QUIET) is None
    again = decide(Condition.DEAD_LETTERS, HOLDS, fired, T0 + QUIET, QUIET)
    assert again is not None
    assert again.state is AlertState.REPEATED


def test_it_resolves_once_when_the_condition_ends() -> None:
    fired = Standing(active=True, last_fired_at=T0)
    resolved = decide(Condition.DEAD_LETTERS, CLEAR, fired, T0 + timedelta(minutes=1), QUIET)
    assert resolved is not None
    assert resolved.state is AlertState.RESOLVED
    assert resolved.message.startswith("resolved: ")
    after = Standing(active=False, last_fired_at=T0)
    assert decide(Condition.DEAD_LETTERS, CLEAR, after, T0 + timedelta(hours=1), QUIET) is None


def test_a_condition_that_never_held_never_resolves() -> None:
    assert decide(Condition.LAG, CLEAR, None, T0, QUIET) is None


def test_a_flapping_condition_fires_again_only_after_the_quiet_period() -> None:
    resolved = Standing(active=False, last_fired_at=T0)
    assert decide(Condition.DEAD_LETTERS, HOLDS, resolved, T0 + QUIET / 2, QUIET) is None
    again = decide(Condition.DEAD_LETTERS, HOLDS, resolved, T0 + QUIET, QUIET)
    assert again is not None
    assert again.state is AlertState.FIRED


def _health(**values: object) -> HealthSnapshot:
    return HealthSnapshot(store="s1", at=T0, **values)  # type: ignore[arg-type]


def test_each_condition_has_its_threshold() -> None:
    limits = Thresholds(
        dead_letters=2,
        destination_failing_after=timedelta(minutes=10),
        held=1,
        quarantined=3,
        lag=timedelta(minutes=15),
        quota_429s=3,
    )
    cases = [
        (Condition.DEAD_LETTERS, _health(dead_letters=1), False),
        (Condition.DEAD_LETTERS, _health(dead_letters=2), True),
        (
            Condition.DESTINATION_FAILING,
            _health(failing_since={"erp": T0 - timedelta(minutes=9)}),
            False,
        ),
        (
            Condition.DESTINATION_FAILING,
            _health(failing_since={"erp": T0 - timedelta(minutes=10)}),
            True,
        ),
        (Condition.WEBHOOK_UNHEALTHY, _health(webhook_installed=False), False),
        (Condition.WEBHOOK_UNHEALTHY, _health(webhook_installed=True, webhook_healthy=None), False),
        (
            Condition.WEBHOOK_UNHEALTHY,
            _health(webhook_installed=True, webhook_healthy=False, webhook_findings=("silent",)),
            True,
        ),
        (Condition.HELD, _health(), False),
        (Condition.HELD, _health(pending_overdue=1), True),
        (Condition.QUARANTINED, _health(quarantined=2), False),
        (Condition.QUARANTINED, _health(quarantined=3), True),
        (Condition.LAG, _health(lag_s=None), False),
        (Condition.LAG, _health(lag_s=899.0), False),
        (Condition.LAG, _health(lag_s=900.0), True),
        (Condition.QUOTA, _health(throttled=2), False),
        (Condition.QUOTA, _health(throttled=3), True),
        (Condition.QUOTA, _health(windows_spent=("store",)), True),
    ]
    for condition, health, holds in cases:
        assert check(condition, health, limits).holds is holds, (condition, health)


def test_the_message_names_the_store_and_the_figures() -> None:
    health = _health(failing_since={"erp": T0 - timedelta(minutes=20)})
    message = check(Condition.DESTINATION_FAILING, health, Thresholds()).message
    assert message == "deliveries of store s1 keep failing: erp (for 20 min)"


def test_evaluate_decides_every_condition_of_the_policy() -> None:
    policy = AlertPolicy("ops", (Condition.DEAD_LETTERS, Condition.LAG, Condition.QUARANTINED))
    health = _health(dead_letters=4, lag_s=10.0, quarantined=0)
    previous = {Condition.QUARANTINED: Standing(active=True, last_fired_at=T0)}
    decisions = {d.condition: d.state for d in evaluate(policy, health, previous)}
    assert decisions == {
        Condition.DEAD_LETTERS: AlertState.FIRED,
        Condition.QUARANTINED: AlertState.RESOLVED,
    }


@given(
    steps=st.lists(
        st.tuples(st.integers(min_value=0, max_value=3600), st.booleans()),
        min_size=1,
        max_size=60,
    ),
    quiet_s=st.integers(min_value=1, max_value=7200),
)
def test_never_two_firings_within_a_quiet_period_and_resolves_only_after_a_fire(
    steps: list[tuple[int, bool]], quiet_s: int
) -> None:
    """Whatever the condition does over time: two firings (fire or repeat) are at least a
    quiet period apart, a resolve always follows a firing, and a repeat never follows a
    resolve."""
    quiet = timedelta(seconds=quiet_s)
    now = T0
    standing: Standing | None = None
    history: list[tuple[datetime, AlertState]] = []
    for gap_s, holds in steps:
        now += timedelta(seconds=gap_s)
        decision = decide(Condition.DEAD_LETTERS, HOLDS if holds else CLEAR, standing, now, quiet)
        if decision is None:
            continue
        history.append((now, decision.state))
        standing = next_standing(standing, decision, now)
    firings = [at for at, state in history if state is not AlertState.RESOLVED]
    for earlier, later in itertools.pairwise(firings):
        assert later - earlier >= quiet
    previous_state: AlertState | None = None
    for _, state in history:
        if state is AlertState.RESOLVED:
            assert previous_state in (AlertState.FIRED, AlertState.REPEATED)
        if state is AlertState.REPEATED:
            assert previous_state in (AlertState.FIRED, AlertState.REPEATED)
        if state is AlertState.FIRED:
            assert previous_state in (None, AlertState.RESOLVED)
        previous_state = state
