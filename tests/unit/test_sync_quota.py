"""The webhook path's quota share: a batch that waits as told never lets any window of the
quota's length see more than the share, and a round far over budget delays the next batches
by a bounded time only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2bsync.sync.quota import QuotaShare

ARRIVALS = st.lists(
    st.tuples(st.floats(min_value=0, max_value=5), st.integers(min_value=1, max_value=3)),
    min_size=1,
    max_size=200,
)
"""(seconds since the previous wake-up, requests the batch then costs)."""


@given(arrivals=ARRIVALS, share=st.sampled_from([0.1, 0.2, 0.5]))
def test_no_window_sees_more_than_the_share(
    arrivals: list[tuple[float, int]], share: float
) -> None:
    quota = QuotaShare(share=share, quota=150, window_s=30.0)
    now = 0.0
    sent: list[tuple[float, int]] = []
    for gap, cost in arrivals:
        now += gap
        now += quota.wait_s(cost, now)
        quota.spend(cost, now)
        sent.append((now, cost))
    for start, _ in sent:
        in_window = sum(cost for at, cost in sent if start <= at < start + quota.window_s)
        assert in_window <= quota.allowed + 1e-9


def test_a_quiet_store_is_served_at_once_and_a_busy_one_in_fewer_batches() -> None:
    quota = QuotaShare(share=0.2, quota=150, window_s=30.0)
    assert quota.wait_s(2, now=0.0) == 0.0
    now, starts = 0.0, []
    while now < 60:
        now += quota.wait_s(2, now)
        quota.spend(2, now)
        starts.append(now)
        now += 0.01
    # Back to back, batches settle at the refill pace: 2 requests per 2/0.9 s.
    steady_gap = starts[-1] - starts[-2]
    assert steady_gap == pytest.approx(2 / quota.rate)
    assert len(starts) <= quota.capacity / 2 + 60 * quota.rate / 2 + 1


def test_a_round_far_over_budget_delays_batches_by_a_bounded_time() -> None:
    quota = QuotaShare(share=0.2, quota=150, window_s=30.0)
    quota.spend(5_000, now=0.0)
    assert quota.wait_s(2, now=0.0) == pytest.approx((quota.capacity + 2) / quota.rate)


def test_the_headers_quota_replaces_the_assumed_one() -> None:
    quota = QuotaShare(share=0.2)
    assert quota.allowed == pytest.approx(30)
    quota.learn(450, 30.0)
    assert quota.allowed == pytest.approx(90)
    quota.learn(None, None)
    assert quota.allowed == pytest.approx(90)


@pytest.mark.parametrize("share", [0.0, -0.1, 1.5])
def test_a_share_outside_0_to_1_is_refused_with_its_value(share: float) -> None:
    with pytest.raises(ValueError, match=str(share)):
        QuotaShare(share=share)
