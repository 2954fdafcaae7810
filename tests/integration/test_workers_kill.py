"""The done-when test of scale-out: 20 stores, 3 worker processes and the web process on
PostgreSQL; shoppers and invoice payments on every store; a worker is SIGKILLed twice in the
middle of a job (and restarted, as systemd would). Every order of every store reaches the `sql`
destination exactly once with its type, and the killed workers' jobs are recovered."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx2
import psycopg
import pytest

from tests.conftest import quiet_config
from tests.integration.webhook_support import healthy, wait_for
from tests.integration.worker_support import (
    assert_delivered_exactly_once,
    processes,
    simulate_all,
    simulations_done,
    upgrade,
    wait_until_delivered,
    write_config,
)
from tests.sandbox_server import free_port, run_sandbox

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

STORES = 20


async def _query(database_url: str, sql: str, *params: object) -> list[tuple[int, ...]]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        rows = await (await conn.execute(sql, params)).fetchall()
    return [tuple(int(value) for value in row) for row in rows]


async def _jobs_by_worker(database_url: str) -> dict[int, list[int]]:
    """Running jobs by the id of the worker running them."""
    rows = await _query(
        database_url,
        "SELECT worker_id, id FROM procrastinate_jobs WHERE status = 'doing' "
        "AND worker_id IS NOT NULL",
    )
    running: dict[int, list[int]] = {}
    for worker_id, job_id in rows:
        running.setdefault(worker_id, []).append(job_id)
    return running


async def _silent_workers(database_url: str, worker_ids: list[int]) -> list[int]:
    """Those of `worker_ids` whose heartbeat stopped (or that were pruned as dead)."""
    alive = await _query(
        database_url,
        "SELECT id FROM procrastinate_workers WHERE id = ANY(%s) "
        "AND last_heartbeat > now() - interval '1.5 seconds'",
        worker_ids,
    )
    return sorted(set(worker_ids) - {row[0] for row in alive})


async def _held_by_dead_workers(database_url: str, job_ids: list[int]) -> int:
    """How many of the jobs are still marked as running by a worker that is gone or silent."""
    rows = await _query(
        database_url,
        "SELECT count(*) FROM procrastinate_jobs job LEFT JOIN procrastinate_workers w "
        "ON w.id = job.worker_id WHERE job.id = ANY(%s) AND job.status = 'doing' "
        "AND (w.id IS NULL OR w.last_heartbeat < now() - interval '1.5 seconds')",
        job_ids,
    )
    return rows[0][0]


async def test_twenty_stores_three_workers_two_sigkills_lose_nothing(
    empty_postgres_url: str,
    tmp_path: Path,
) -> None:
    extra = tuple(f"teststore1-{n}" for n in range(2, STORES + 1))
    config = quiet_config(orders=10, companies=3, extra_store_hashes=extra)
    with run_sandbox(config) as sandbox:
        stores = config.store_hashes
        await upgrade(empty_postgres_url)
        path = write_config(tmp_path / "b2bsync.toml", sandbox, empty_postgres_url)
        with processes(path, sandbox) as running:
            port = free_port()
            web = running.start("run", "--role", "web", "--port", str(port))
            workers = [running.start("worker", "--concurrency", "2") for _ in range(3)]
            await wait_for(lambda: healthy(f"http://127.0.0.1:{port}"), limit_s=20)
            await simulate_all(sandbox, stores, rate=2, duration=6)
            killed_jobs: list[int] = []
            for victim in workers[:2]:
                running_jobs: dict[int, list[int]] = {}
                dead: list[int] = []

                async def all_busy(running_jobs: dict[int, list[int]] = running_jobs) -> bool:
                    running_jobs.clear()
                    running_jobs.update(await _jobs_by_worker(empty_postgres_url))
                    return len(running_jobs) >= 3

                # Every worker is inside a job, so the victim dies in the middle of one.
                await wait_for(all_busy, limit_s=30, interval=0.01)
                victim.send_signal(signal.SIGKILL)
                victim.wait()

                async def found_dead(
                    running_jobs: dict[int, list[int]] = running_jobs, dead: list[int] = dead
                ) -> bool:
                    dead[:] = await _silent_workers(empty_postgres_url, list(running_jobs))
                    return bool(dead)

                await wait_for(found_dead, limit_s=10)
                assert len(dead) == 1
                killed_jobs += running_jobs[dead[0]]
                workers.append(running.start("worker", "--concurrency", "2"))
            await wait_for(lambda: simulations_done(sandbox, stores), limit_s=30)
            alive = [web, *workers[2:]]
            expected = await wait_until_delivered(sandbox, stores, empty_postgres_url, 60, alive)
            # The jobs the dead workers held were queued again, not left running forever.
            assert await _held_by_dead_workers(empty_postgres_url, killed_jobs) == 0
            # The web process's dashboard reads what the workers wrote, across every store.
            async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                # A round still running may enqueue a late version (a signal the sandbox sends
                # after its simulation); the dashboard must show the outbox drained once the
                # workers deliver it.
                shown: dict[str, object] = {}

                async def drained() -> bool:
                    shown.update((await http.get("/api/overview")).json())
                    return shown["outbox_depth"] == 0

                await wait_for(drained, limit_s=30, interval=0.5)
                overview = shown
                one_store = (await http.get("/api/orders", params={"store": stores[-1]})).json()
            assert isinstance(overview["orders"], int)
            assert overview["orders"] >= len(expected)
            assert overview["outbox_depth"] == 0
            assert one_store["total"] > 0
            assert {row["store"] for row in one_store["items"]} == {stores[-1]}
        await assert_delivered_exactly_once(expected, empty_postgres_url)
        assert {store for store, _ in expected} == set(stores)
        assert killed_jobs
