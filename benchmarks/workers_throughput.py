"""Scale-out throughput: orders/s across all stores for 1, 2 and 4 `b2bsync worker` processes.

Starts `b2bsync sandbox serve --stores S --orders N` in its own process (every store gets N
orders of history), then for each worker count and run: a fresh PostgreSQL database, `b2bsync
db upgrade`, K worker processes (`--concurrency C` each) syncing every store into the `sql`
destination in that database. A run ends when every deliverable order of every store is in the
destination; its throughput is orders / (end - the moment all K workers had registered), so
process start-up (the same for every K) is not counted. It prints the median of the runs with
min-max, the ratio to 1 worker measured in the same invocation, and the CPU seconds the
workers and the sandbox used (from /proc), which show where the time went.

    .venv/bin/python benchmarks/workers_throughput.py [--stores 20] [--orders 250] [--runs 3]
        [--workers 1,2,4] [--concurrency 2] [--plan unlimited]
        [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import psycopg

from harness import TOKEN, Sandbox, sandbox

B2BSYNC = str(Path(sys.executable).with_name("b2bsync"))
TICKS = os.sysconf("SC_CLK_TCK")
RUN_LIMIT_S = 900


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def deliverable(box: Sandbox) -> int:
    """Orders of every store that must reach the destination (status 0 never does)."""
    total = 0
    for store in box.stores:
        headers = {"X-Auth-Token": TOKEN, "X-Store-Hash": store}
        rows = httpx2.get(f"{box.base_url}/__sandbox/orders", headers=headers, timeout=60).json()
        total += sum(1 for row in rows if row["status_id"] != 0)
    return total


def write_config(path: Path, box: Sandbox, database_url: str) -> None:
    lines = [
        f'database_url = "{database_url}"',
        "[sync]",
        "poll_interval_s = 1",
        "backfill_days = 3650",
        "[[destinations]]",
        'name = "sql"',
        'type = "sql"',
        f'url = "{database_url}"',
    ]
    for store in box.stores:
        lines += [
            "[[stores]]",
            f'hash = "{store}"',
            f'access_token = "{TOKEN}"',
            f'api_url = "{box.base_url}"',
            f'b2b_api_url = "{box.base_url}/b2b"',
        ]
    path.write_text("\n".join(lines) + "\n")


def scalar(url: str, query: str) -> int:
    with psycopg.connect(url) as conn:
        try:
            row = conn.execute(query).fetchone()  # type: ignore[arg-type]
        except psycopg.errors.UndefinedTable:
            return 0
    return int(row[0]) if row else 0


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    name = f"b2bsync_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


@dataclass(frozen=True)
class Run:
    orders_per_s: float
    seconds: float
    worker_cpu_s: float
    sandbox_cpu_s: float


def one_run(box: Sandbox, admin_url: str, workers: int, concurrency: int, expected: int) -> Run:
    """K workers sync every store from scratch; measured from all registered to all delivered."""
    with fresh_database(admin_url) as url, tempfile.TemporaryDirectory() as workdir:
        config = Path(workdir) / "b2bsync.toml"
        write_config(config, box, url)
        subprocess.run(
            [B2BSYNC, "db", "upgrade", "--database-url", url], check=True, capture_output=True
        )
        sandbox_cpu = cpu_seconds(box.pid)
        processes = [
            subprocess.Popen(
                [B2BSYNC, "worker", f"--concurrency={concurrency}", f"--config={config}"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=workdir,
            )
            for _ in range(workers)
        ]
        try:
            while scalar(url, "SELECT count(*) FROM procrastinate_workers") < workers:
                time.sleep(0.02)
            started = time.perf_counter()
            query = (
                "SELECT (SELECT count(*) FROM b2bsync_orders) "
                "+ (SELECT count(*) FROM b2bsync_payments)"
            )
            while scalar(url, query) < expected:
                if time.perf_counter() - started > RUN_LIMIT_S:
                    raise SystemExit(f"{workers} worker(s) did not finish in {RUN_LIMIT_S} s")
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            worker_cpu = sum(cpu_seconds(p.pid) for p in processes)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
        return Run(expected / seconds, seconds, worker_cpu, cpu_seconds(box.pid) - sandbox_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--orders", type=int, default=250)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--plan", default="unlimited")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "B2BSYNC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    counts = [int(part) for part in args.workers.split(",")]
    print(
        f"{args.stores} stores x {args.orders} orders, plan {args.plan}, "
        f"--concurrency {args.concurrency} per worker, {args.runs} runs each, "
        f"{os.cpu_count()} CPUs"
    )
    with sandbox(args.orders, plan=args.plan, stores=args.stores) as box:
        expected = deliverable(box)
        print(f"{expected} deliverable orders per run")
        results: dict[int, list[Run]] = {}
        for _ in range(args.runs):
            # Interleaved, so a noisy neighbour hits every worker count alike.
            for count in counts:
                results.setdefault(count, []).append(
                    one_run(box, args.postgres, count, args.concurrency, expected)
                )
    base = statistics.median(run.orders_per_s for run in results[counts[0]])
    print(
        f"{'workers':>7} {'orders/s median':>16} {'min-max':>15} {'ratio':>6} "
        f"{'worker CPU s':>13} {'sandbox CPU s':>14} {'wall s':>7}"
    )
    for count in counts:
        runs = results[count]
        rates = [run.orders_per_s for run in runs]
        median = statistics.median(rates)
        print(
            f"{count:>7} {median:>16.0f} {min(rates):>7.0f}-{max(rates):<7.0f} "
            f"{median / base:>6.2f} {statistics.median(r.worker_cpu_s for r in runs):>13.1f} "
            f"{statistics.median(r.sandbox_cpu_s for r in runs):>14.1f} "
            f"{statistics.median(r.seconds for r in runs):>7.1f}"
        )


if __name__ == "__main__":
    main()
