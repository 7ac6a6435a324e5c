"""Latency of an authenticated `GET /user/<username>` on a real Hypercorn server with a throwaway database.

Run: .venv/bin/python bench/auth_latency.py --backend sqlite|mariadb [--requests N] [--concurrency C] [--json]
For mariadb it also counts Redis commands and round trips per request (INFO commandstats / INFO stats).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pymysql
import redis

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
BENCH_DB = "sinpluma_bench"
REDIS_URL = f"redis://{HOST}:6379/0"
WARMUP = 50
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def process_tree_cpu(root: int) -> float:
    """User + system CPU seconds of `root` and every live descendant (Hypercorn spawns its workers)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        # After the command name: state(3) ppid(4) ... utime(14) stime(15), 1-based as in proc(5).
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


def machine_busy_cpu() -> float:
    """CPU seconds all cores spent not idle since boot (from /proc/stat), to spot other load on the box."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def redis_counters(client: redis.Redis) -> dict[str, int]:
    """Server-wide totals; each call is itself one INFO command and one read on the server."""
    info: Mapping[str, Any] = client.execute_command("INFO", "commandstats", "stats")
    counters = {name: int(info[f"total_{name}"]) for name in ("commands_processed", "reads_processed")}
    counters["connections_received"] = int(info["total_connections_received"])
    for key, value in info.items():
        if key.startswith("cmdstat_"):
            counters[key.removeprefix("cmdstat_")] = int(value["calls"])
    return counters


def delta(after: Mapping[str, int], before: Mapping[str, int]) -> dict[str, int]:
    return {key: after.get(key, 0) - before.get(key, 0) for key in after.keys() | before.keys()}


def mysql_admin(statement: str) -> None:
    with (
        pymysql.connect(host=HOST, port=3306, user="root", password="") as connection,
        connection.cursor() as cur,
    ):
        cur.execute(statement)


async def wait_healthy(client: httpx.AsyncClient, server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise RuntimeError(f"server exited with status {server.returncode}")
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("server not healthy after 30 s")


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: expected {status}, "
            f"got {response.status_code}: {response.text[:500]}"
        )
    return response


async def load(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], total: int, workers: int
) -> list[float]:
    """`total` GETs shared by `workers` concurrent loops; returns each latency in milliseconds."""
    latencies: list[float] = []

    async def worker(share: int) -> None:
        for _ in range(share):
            start = time.perf_counter()
            response = await client.get(path, headers=headers)
            latencies.append((time.perf_counter() - start) * 1000)
            expect(response, 200)

    await asyncio.gather(*(worker(total // workers + (i < total % workers)) for i in range(workers)))
    return latencies


async def measure(
    base_url: str, server: subprocess.Popen[bytes], args: argparse.Namespace, redis_client: redis.Redis | None
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        await wait_healthy(client, server)
        username = f"bench_{secrets.token_hex(6)}"
        password = secrets.token_urlsafe(18)
        body = {"username": username, "email": f"{username}@example.com", "password": password}
        expect(await client.post("/user/register", json=body), 201)
        credentials = {"username": username, "password": password}
        login = expect(await client.post("/user/login", json=credentials), 200)
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        path = f"/user/{username}"
        await load(client, path, headers, WARMUP, args.concurrency)

        calibration: dict[str, int] = {}
        redis_before: dict[str, int] = {}
        if redis_client is not None:  # An empty interval: what two INFO calls alone add to the totals.
            empty_start = redis_counters(redis_client)
            redis_before = redis_counters(redis_client)
            calibration = delta(redis_before, empty_start)
        server_cpu = process_tree_cpu(server.pid)
        client_cpu = time.process_time()
        busy_cpu = machine_busy_cpu()
        started = time.perf_counter()
        latencies = await load(client, path, headers, args.requests, args.concurrency)
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_cpu = process_tree_cpu(server.pid) - server_cpu
        other_cpu = machine_busy_cpu() - busy_cpu - server_cpu - client_cpu
        if redis_client is not None:
            redis_delta = delta(delta(redis_counters(redis_client), redis_before), calibration)

    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    result: dict[str, Any] = {key: getattr(args, key) for key in ("backend", "requests", "concurrency")}
    result |= {f"p{p}_ms": cuts[p - 1] for p in (50, 90, 99)}
    result |= {"max_ms": max(latencies), "mean_ms": statistics.fmean(latencies), "elapsed_s": elapsed}
    result |= {"req_per_s": args.requests / elapsed, "server_cpu_s": server_cpu, "client_cpu_s": client_cpu}
    result["other_cpu_s"] = other_cpu  # Everything else on the machine (MariaDB, Redis, other users).
    if redis_client is not None:
        result["redis_commands_per_req"] = redis_delta.pop("commands_processed") / args.requests
        result["redis_round_trips_per_req"] = redis_delta.pop("reads_processed") / args.requests
        # The server's pool is warm: a new connection means another Redis user skewed the global counters.
        result["redis_new_connections"] = redis_delta.pop("connections_received")
        result["redis_commands_by_name_per_req"] = {
            name: calls / args.requests for name, calls in sorted(redis_delta.items()) if calls
        }
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sinpluma-bench-") as tmp:
        env = {name: value for name, value in os.environ.items() if not name.startswith("SINPLUMA_")}
        env |= {"SINPLUMA_JWT_SECRET": secrets.token_urlsafe(48), "SINPLUMA_OBJECT_DIR": f"{tmp}/objects"}
        redis_client: redis.Redis | None = None
        prefix = f"sinpluma-bench-{secrets.token_hex(4)}:"
        if args.backend == "sqlite":
            env["SINPLUMA_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp}/bench.db"
        else:
            mysql_admin(f"DROP DATABASE IF EXISTS {BENCH_DB}")
            mysql_admin(f"CREATE DATABASE {BENCH_DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            env["SINPLUMA_DATABASE_URL"] = f"mysql+aiomysql://root@{HOST}:3306/{BENCH_DB}?charset=utf8mb4"
            env["SINPLUMA_REDIS_URL"] = REDIS_URL
            env["SINPLUMA_REDIS_KEY_PREFIX"] = prefix
            redis_client = redis.Redis.from_url(REDIS_URL)
        log = Path(tmp) / "server.log"
        server: subprocess.Popen[bytes] | None = None
        try:
            sinpluma = str(Path(PYTHON).parent / "sinpluma")
            migrate = subprocess.run(
                [sinpluma, "migrate"], cwd=ROOT, env=env, capture_output=True, timeout=120
            )
            if migrate.returncode != 0:
                raise RuntimeError(f"sinpluma migrate failed:\n{migrate.stderr.decode()[-4000:]}")
            port = free_port()
            # `--access-logfile=` (empty) turns off the access log that hypercorn.toml sends to stdout.
            flags = f"--config hypercorn.toml --bind {HOST}:{port} --access-logfile= sinpluma_async.asgi:app"
            with log.open("wb") as sink:
                command = [PYTHON, "-m", "hypercorn", *flags.split()]
                server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
            return asyncio.run(measure(f"http://{HOST}:{port}", server, args, redis_client))
        except Exception:
            if log.exists():
                print(f"--- server log (tail) ---\n{log.read_text()[-4000:]}", file=sys.stderr)
            raise
        finally:
            if server is not None and server.poll() is None:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            if redis_client is not None:
                for key in redis_client.scan_iter(match=f"{prefix}*", count=1000):
                    redis_client.delete(key)
                redis_client.close()
            if args.backend == "mariadb":
                mysql_admin(f"DROP DATABASE IF EXISTS {BENCH_DB}")


def summary(result: Mapping[str, Any]) -> str:
    lines = [
        "backend={backend} requests={requests} concurrency={concurrency} nproc={nproc}",
        "latency ms: p50 {p50_ms:.3f} p90 {p90_ms:.3f} p99 {p99_ms:.3f} max {max_ms:.3f} mean {mean_ms:.3f}",
        "throughput: {req_per_s:.1f} req/s over {elapsed_s:.3f} s",
        "cpu during loop: server {server_cpu_s:.3f} s, client {client_cpu_s:.3f} s, rest {other_cpu_s:.3f} s",
    ]
    lines = [line.format(nproc=os.cpu_count(), **result) for line in lines]
    if "redis_commands_per_req" in result:
        by_name = ", ".join(
            f"{name} {calls:.3f}" for name, calls in result["redis_commands_by_name_per_req"].items()
        )
        lines.append(
            f"redis per request: {result['redis_commands_per_req']:.3f} commands ({by_name or 'none'}), "
            f"{result['redis_round_trips_per_req']:.3f} round trips"
        )
        if result["redis_new_connections"]:
            lines.append(f"WARNING: {result['redis_new_connections']} new Redis connections: other traffic")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="Latency of an authenticated GET /user/<username>.")
    parser.add_argument("--backend", choices=("sqlite", "mariadb"), required=True)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="also print the result as one JSON line")
    args = parser.parse_args()
    if args.requests < 2 or not 1 <= args.concurrency <= args.requests:
        parser.error("need --requests >= 2 and 1 <= --concurrency <= --requests")
    result = run(args)
    print(summary(result))
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
