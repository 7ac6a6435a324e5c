"""What the benchmarks share: a real Hypercorn server on a throwaway database, CPU and latency figures."""

from __future__ import annotations

import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pymysql
import redis
from servers import LiveServer, process_stats, server_environment

from sinpluma_async.ratelimits.policies import POLICIES

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
# A Redis of the benchmark's own (BENCH_REDIS_URL) keeps other users' commands out of its figures.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", f"redis://{HOST}:6379/0")
# The service reaches MariaDB over loopback TCP, or over its Unix socket when this names one.
MARIADB_SOCKET = os.environ.get("BENCH_MARIADB_SOCKET")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Limits stay on, so that a benchmark pays for counting, but far above what one client sends from one
# address; ws-save keeps its default, which the autosave clients respect. A benchmark's env may override.
BENCH_RATE_LIMITS = ",".join(f"{name}=100000000/1m" for name in POLICIES if name != "ws-save")


def process_tree_cpu(root: int) -> float:
    """User + system CPU seconds of `root` and every live descendant (Hypercorn spawns its workers)."""
    return process_tree_cpu_of(root, (11, 12))


def process_tree_system_cpu(root: int) -> float:
    """The kernel's share of `process_tree_cpu`: system calls, and loopback TCP delivered by them."""
    return process_tree_cpu_of(root, (12,))


def process_tree_cpu_of(root: int, columns: tuple[int, ...]) -> float:
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for pid, fields in process_stats():
        parents[pid] = int(fields[1])
        times[pid] = sum(int(fields[column]) for column in columns) / CLOCK_TICKS
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


def named_processes_cpu(name: str) -> float:
    """User + system CPU seconds of every process whose command is `name` (mariadbd, redis-server)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == name:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
                total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        except OSError:
            continue
    return total


def machine_busy_cpu() -> float:
    """CPU seconds all cores spent not idle since boot (from /proc/stat), to spot other load on the box."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def cpu_now(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the server's processes (and the kernel's share), MariaDB, Redis and
    the whole machine: subtract two of these to get what a measured stretch cost each."""
    return {
        "server": process_tree_cpu(server_pid),
        "server_system": process_tree_system_cpu(server_pid),
        "mariadb": named_processes_cpu("mariadbd"),
        "redis": named_processes_cpu("redis-server"),
        "machine": machine_busy_cpu(),
    }


def mysql_connection(database: str | None = None) -> pymysql.Connection[Any]:
    return pymysql.connect(
        host=HOST, port=3306, user="root", password="", database=database, charset="utf8mb4", autocommit=True
    )


def mysql_admin(statement: str) -> None:
    with mysql_connection() as connection, connection.cursor() as cursor:
        cursor.execute(statement)


def delta(after: Mapping[str, int], before: Mapping[str, int]) -> dict[str, int]:
    return {key: after.get(key, 0) - before.get(key, 0) for key in after.keys() | before.keys()}


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: expected {status}, "
            f"got {response.status_code}: {response.text[:500]}"
        )
    return response


def latency_summary(latencies_ms: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(latencies_ms, n=100, method="inclusive")
    return {
        "p50_ms": cuts[49],
        "p90_ms": cuts[89],
        "p99_ms": cuts[98],
        "max_ms": max(latencies_ms),
        "mean_ms": statistics.fmean(latencies_ms),
    }


@dataclass
class Server:
    """A running server: its process, environment and throwaway database."""

    live: LiveServer
    env: dict[str, str]
    redis_prefix: str
    database: str | None

    @property
    def url(self) -> str:
        return self.live.url

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.live.process

    def cpu(self) -> float:
        return process_tree_cpu(self.process.pid)


@contextmanager
def running_server(
    backend: str,
    *,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    flags: Sequence[str] = (),
    source: Path | None = None,
) -> Iterator[Server]:
    """Migrate a fresh database (SQLite file or a `sinpluma_bench_*` MariaDB database) and serve it
    (the package of checkout `source`, when given)."""
    # SIGTERM to the benchmark should still stop the server and drop the database below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="sinpluma-bench-") as tmp:
        settings = {
            "SINPLUMA_JWT_SECRET": secrets.token_urlsafe(48),
            "SINPLUMA_OBJECT_DIR": f"{tmp}/objects",
            "SINPLUMA_RATE_LIMITS": BENCH_RATE_LIMITS,
            # As in production: JSON log lines, and the workers' series in files (`sinpluma serve`).
            "SINPLUMA_LOG_FORMAT": "json",
            "PROMETHEUS_MULTIPROC_DIR": f"{tmp}/metrics",
        }
        Path(f"{tmp}/metrics").mkdir()
        run_id = secrets.token_hex(4)
        prefix = f"sinpluma-bench-{run_id}:"
        database = None if backend == "sqlite" else f"sinpluma_bench_{run_id}"
        if database is None:
            settings["SINPLUMA_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp}/bench.db"
        else:
            mysql_admin(f"CREATE DATABASE {database} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            settings["SINPLUMA_DATABASE_URL"] = (
                f"mysql+aiomysql://root@{HOST}:3306/{database}?charset=utf8mb4"
                if MARIADB_SOCKET is None
                else f"mysql+aiomysql://root@localhost/{database}?charset=utf8mb4&unix_socket={MARIADB_SOCKET}"
            )
            settings["SINPLUMA_REDIS_URL"] = REDIS_URL
            settings["SINPLUMA_REDIS_KEY_PREFIX"] = prefix
        settings |= env or {}
        try:
            migrate(settings)
            with LiveServer(settings, workers=workers, flags=flags, source=source) as live:
                try:
                    yield Server(live, server_environment(settings), prefix, database)
                except Exception:
                    print(f"--- server log (tail) ---\n{live.log()[-4000:]}", file=sys.stderr)
                    raise
        finally:
            if database is not None:
                client = redis.Redis.from_url(REDIS_URL)
                for key in client.scan_iter(match=f"{prefix}*", count=1000):
                    client.delete(key)
                client.close()
                mysql_admin(f"DROP DATABASE IF EXISTS {database}")


def migrate(settings: Mapping[str, str]) -> None:
    """`sinpluma migrate` with the server's settings."""
    migration = subprocess.run(
        [str(Path(PYTHON).parent / "sinpluma"), "migrate"],
        cwd=ROOT,
        env=server_environment(settings),
        capture_output=True,
        timeout=120,
        check=False,
    )
    if migration.returncode != 0:
        raise RuntimeError(f"sinpluma migrate failed:\n{migration.stderr.decode()[-4000:]}")


async def timed(
    requests: int, send: Callable[[int], Awaitable[httpx.Response]], status: int = 200
) -> list[float]:
    """Send `requests` requests one after another; each latency in milliseconds."""
    latencies: list[float] = []
    for index in range(requests):
        start = time.perf_counter()
        response = await send(index)
        latencies.append((time.perf_counter() - start) * 1000)
        expect(response, status)
    return latencies
