"""Pure parts of the workers: the periodic jobs' cron lines and the job queue's connection."""

from __future__ import annotations

import pytest
from croniter import croniter

from b2bsync.workers import cron_for_interval, procrastinate_conninfo


@pytest.mark.parametrize(
    ("interval_s", "cron"),
    [
        (1, "* * * * * */1"),
        (0.2, "* * * * * */1"),
        (30, "* * * * * */30"),
        (59.5, "*/1 * * * *"),
        (60, "*/1 * * * *"),
        (300, "*/5 * * * *"),
        (3600, "0 * * * *"),
        (86_400, "0 * * * *"),
    ],
)
def test_a_poll_interval_becomes_the_nearest_cron_line(interval_s: float, cron: str) -> None:
    assert cron_for_interval(interval_s) == cron
    assert croniter.is_valid(cron)


def test_a_non_positive_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        cron_for_interval(0)


def test_the_job_queue_uses_the_ledger_postgresql_without_the_driver_suffix() -> None:
    url = "postgresql+psycopg://b2b:secret@db.internal:5432/b2bsync"
    assert procrastinate_conninfo(url) == "postgresql://b2b:secret@db.internal:5432/b2bsync"


def test_the_job_queue_needs_postgresql() -> None:
    with pytest.raises(ValueError, match="workers need PostgreSQL; the database_url is sqlite"):
        procrastinate_conninfo("sqlite:///.b2bsync/b2bsync.db")
