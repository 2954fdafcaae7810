"""b2bsync's procrastinate app: one job per store round, a periodic tick that queues them, and
a periodic recovery of jobs whose worker died.

- `b2bsync.sync_store(store)` runs `poll_round` (the change feed, then `run_once`: streams,
  scans, re-checks, delivery, write-back) for one store. It is deferred with `lock` and
  `queueing_lock` = `store:<hash>`: at most one runs and one waits per store, so one order is
  never processed by two workers at once and a store's API calls come from one job at a time
  (its rate budget is handed from job to job by `budget.py`).
- `b2bsync.tick` fires every poll interval (procrastinate's periodic deferrer runs it once per
  period across all workers) and queues `sync_store` for every store.
- `b2bsync.recover_stalled` re-queues the jobs of workers whose heartbeat stopped (SIGKILL,
  lost host). Nothing is lost meanwhile: the change feed, ledger, checkpoints and outbox leases
  are the source of truth, the job only says which worker looks at a store next.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

import structlog
from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status
from sqlalchemy.engine import make_url

from b2bsync.bigcommerce import BigCommerceError, GovernorRegistry
from b2bsync.sync.fleet import Fleet
from b2bsync.sync.webhooks.microbatch import BatchSettings, poll_round
from b2bsync.workers.budget import handed_over
from b2bsync.workers.schedule import cron_for_interval

__all__ = ["SYNC_TASK", "WorkerApp", "WorkerSettings", "build_worker_app", "procrastinate_conninfo"]

log = structlog.get_logger("b2bsync.workers")

SYNC_TASK = "b2bsync.sync_store"


def procrastinate_conninfo(database_url: str) -> str:
    """The libpq connection string of a PostgreSQL `database_url` (any SQLAlchemy driver
    suffix dropped); `ValueError` for another database, since the job queue lives in
    PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"workers need PostgreSQL; the database_url is {url.get_backend_name()}")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def store_lock(store: str) -> str:
    """The lock (and queueing lock) of a store's sync job."""
    return f"store:{store}"


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """Pacing of the workers."""

    poll_interval_s: float = 30.0
    heartbeat_s: float = 10.0
    """How often a worker says it is alive."""
    stalled_after_s: float = 30.0
    """A worker silent this long is dead: its jobs are queued again."""
    batch: BatchSettings = field(default_factory=BatchSettings)

    def __post_init__(self) -> None:
        if self.stalled_after_s <= self.heartbeat_s:
            raise ValueError("stalled_after_s must be longer than heartbeat_s")


class WorkerApp:
    """The procrastinate app and its tasks; `run` binds a `Fleet` and works until stopped.

    A process that only queues jobs (the web role) uses `defer_sync` without running a worker.
    """

    def __init__(
        self,
        conninfo: str,
        open_fleet: Callable[[], AbstractAsyncContextManager[Fleet]],
        settings: WorkerSettings = WorkerSettings(),
    ) -> None:
        self.settings = settings
        self.app = App(connector=PsycopgConnector(conninfo=conninfo))
        self._open_fleet = open_fleet
        self._fleet: Fleet | None = None
        self._register()

    def _register(self) -> None:
        @self.app.task(name=SYNC_TASK)
        async def sync_store(store: str) -> None:
            await self.sync_store(store)

        @self.app.periodic(cron=cron_for_interval(self.settings.poll_interval_s))
        @self.app.task(name="b2bsync.tick", queueing_lock="b2bsync.tick")
        async def tick(timestamp: int) -> None:
            await self.queue_all()

        every = max(1.0, self.settings.stalled_after_s / 2)

        @self.app.periodic(cron=cron_for_interval(every))
        @self.app.task(name="b2bsync.recover_stalled", queueing_lock="b2bsync.recover_stalled")
        async def recover_stalled(timestamp: int) -> None:
            await self.recover_stalled()

    @property
    def fleet(self) -> Fleet:
        """The stores this worker syncs (bound by `run`)."""
        if self._fleet is None:
            raise RuntimeError("the worker is not running")
        return self._fleet

    async def defer_sync(self, store: str) -> bool:
        """Queue a round of `store` unless one is already waiting; True when queued."""
        lock = store_lock(store)
        deferrer = self.app.configure_task(SYNC_TASK, lock=lock, queueing_lock=lock)
        try:
            await deferrer.defer_async(store=store)
        except AlreadyEnqueued:
            return False
        return True

    async def queue_all(self) -> int:
        """Queue a round of every store that has none waiting; how many were queued."""
        return sum([await self.defer_sync(store) for store in self.fleet.store_hashes])

    async def sync_store(self, store: str) -> None:
        """One `poll_round` of `store`, its governors seeded from the previous job's budget."""
        if store not in self.fleet.stores:
            log.warning("worker.unknown_store", store=store)
            return
        registry = GovernorRegistry()
        async with self.fleet.context(store, governors=registry) as ctx:
            try:
                async with handed_over(ctx, registry):
                    summary = await poll_round(ctx, self.settings.batch)
            except BigCommerceError as error:
                # Everything committed stays committed; the next tick tries again.
                log.warning("worker.round_failed", store=store, error=str(error))
                return
        log.info(
            "worker.round",
            store=store,
            orders=summary.poll.orders_read,
            delivered=summary.delivery.delivered,
            calls=summary.calls,
        )

    async def recover_stalled(self) -> int:
        """Queue again the jobs of workers whose heartbeat stopped; how many were found."""
        manager = self.app.job_manager
        stalled = list(
            await manager.get_stalled_jobs(seconds_since_heartbeat=self.settings.stalled_after_s)
        )
        for job in stalled:
            assert job.id is not None
            try:
                await manager.retry_job(job)
            except UniqueViolation:
                # The same round already waits (the tick queued it); the dead copy is closed.
                await manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
            log.warning(
                "worker.recovered",
                store=job.task_kwargs.get("store"),
                job=job.id,
                task=job.task_name,
                lock=job.lock,
            )
        return len(stalled)

    async def run(self, *, concurrency: int = 1, name: str = "worker") -> None:
        """Work until SIGINT/SIGTERM: open the fleet, run procrastinate's worker."""
        async with self._open_fleet() as fleet, self.app.open_async():
            self._fleet = fleet
            try:
                await self.app.run_worker_async(
                    concurrency=concurrency,
                    name=name,
                    update_heartbeat_interval=self.settings.heartbeat_s,
                    stalled_worker_timeout=self.settings.stalled_after_s,
                    delete_jobs="successful",
                    fetch_job_polling_interval=max(0.5, min(5.0, self.settings.poll_interval_s)),
                )
            finally:
                self._fleet = None


def build_worker_app(
    database_url: str,
    open_fleet: Callable[[], AbstractAsyncContextManager[Fleet]],
    settings: WorkerSettings = WorkerSettings(),
) -> WorkerApp:
    """The worker app on the PostgreSQL of `database_url` (`ValueError` for another one)."""
    return WorkerApp(procrastinate_conninfo(database_url), open_fleet, settings)
