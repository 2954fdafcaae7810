"""The webhook path's quota share: a batch that waits as told never lets any window of the
quota's length see more than the share, and a round far over budget delays the next batches
by a bounded time only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2bsync.sync.webhooks.quota import QuotaShare

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


def _run_beside_a_poll(
    quota: QuotaShare, arrivals: list[tuple[float, int]], poll_requests: int, reserve: float
) -> tuple[list[tuple[float, int]], list[float]]:
    """Batches as they arrive and a poll that always wants its next request, each lane waiting
    as the bucket says; (every send as (time, requests), the poll's send times)."""
    quota.start_poll(0.0)
    sent: list[tuple[float, int]] = []
    poll_sent: list[float] = []
    poll_at, batch_at, index = 0.0, arrivals[0][0], 0
    while len(poll_sent) < poll_requests or index < len(arrivals):
        poll_turn = len(poll_sent) < poll_requests and (
            index >= len(arrivals) or poll_at <= batch_at
        )
        if poll_turn:
            if (wait := quota.poll_wait_s(reserve, poll_at)) > 0:
                poll_at += wait + 1e-9
                continue
            quota.take_for_poll(reserve, poll_at)
            sent.append((poll_at, 1))
            poll_sent.append(poll_at)
        else:
            cost = arrivals[index][1]
            if (wait := quota.wait_s(cost, batch_at)) > 0:
                batch_at += wait + 1e-9
                continue
            quota.spend(cost, batch_at)
            sent.append((batch_at, cost))
            index += 1
            if index < len(arrivals):
                batch_at += arrivals[index][0]
    quota.end_poll(max(poll_at, batch_at))
    return sent, poll_sent


def _most_in_a_window(sent: list[tuple[float, int]], window_s: float) -> int:
    return max(
        sum(cost for at, cost in sent if start <= at < start + window_s) for start, _ in sent
    )


@given(
    arrivals=ARRIVALS,
    poll_requests=st.integers(min_value=1, max_value=80),
    share=st.sampled_from([0.1, 0.2, 0.5]),
)
def test_a_poll_beside_batches_keeps_within_the_share_and_gets_its_part(
    arrivals: list[tuple[float, int]], poll_requests: int, share: float
) -> None:
    quota = QuotaShare(share=share, quota=150, window_s=30.0)
    sent, poll_sent = _run_beside_a_poll(quota, arrivals, poll_requests, reserve=2.0)
    assert _most_in_a_window(sent, quota.window_s) <= quota.allowed + 1e-9
    # However busy the batches, each poll request waits at most for its own part of the refill.
    gaps = [b - a for a, b in zip([0.0, *poll_sent], poll_sent, strict=False)]
    assert max(gaps) <= 1 / (quota.rate * quota.poll_fraction) + 1e-6


def test_batches_go_on_while_a_long_poll_runs() -> None:
    quota = QuotaShare(share=0.2, quota=150, window_s=30.0)
    # A store at 20 orders/s: a batch of 2 requests wants to start every 0.5 s, all along.
    arrivals = [(0.5, 2)] * 600
    sent, poll_sent = _run_beside_a_poll(quota, arrivals, poll_requests=50, reserve=2.0)
    poll_ends = poll_sent[-1]
    batches_meanwhile = sum(1 for at, cost in sent if cost == 2 and at <= poll_ends)
    assert poll_ends <= 50 / (quota.rate * quota.poll_fraction)
    # The batches keep (1 - poll_fraction) of the refill: fewer, never stopped.
    expected = poll_ends * quota.rate * (1 - quota.poll_fraction) / 2
    assert batches_meanwhile >= expected - 1
    assert _most_in_a_window(sent, quota.window_s) <= quota.allowed + 1e-9
