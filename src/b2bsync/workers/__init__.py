"""Scale-out: the same sync services as the single-process runner, run as procrastinate jobs on
PostgreSQL by any number of `b2bsync worker` processes."""

from b2bsync.workers.app import WorkerApp, WorkerSettings, build_worker_app, procrastinate_conninfo
from b2bsync.workers.schedule import cron_for_interval

__all__ = [
    "WorkerApp",
    "WorkerSettings",
    "build_worker_app",
    "cron_for_interval",
    "procrastinate_conninfo",
]
