"""Latency of an authenticated `GET /user/<username>` on a real Hypercorn server with a throwaway database.

Run: .venv/bin/python bench/auth_latency.py --backend sqlite|mariadb [--requests N] [--concurrency C]
     [--rate-limits on|off] [--json]
For mariadb it also counts Redis commands and round trips per request (INFO commandstats / INFO stats);
commandstats also counts the commands a script runs (the rate-limit script's TIME, EXISTS, LLEN, ...).
The server runs with rate limits on, raised above what the benchmark sends (bench/harness.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
from collections.abc import Mapping
from typing import Any

import httpx
import redis
from harness import REDIS_URL, Server, delta, expect, latency_summary, machine_busy_cpu, running_server

WARMUP = 50


def redis_counters(client: redis.Redis) -> dict[str, int]:
    """Server-wide totals; each call is itself one INFO command and one read on the server."""
    info: Mapping[str, Any] = client.execute_command("INFO", "commandstats", "stats", "cpu")
    counters = {name: int(info[f"total_{name}"]) for name in ("commands_processed", "reads_processed")}
    counters["cpu_us"] = round((float(info["used_cpu_user"]) + float(info["used_cpu_sys"])) * 1e6)
    counters["connections_received"] = int(info["total_connections_received"])
    for key, value in info.items():
        if key.startswith("cmdstat_"):
            counters[key.removeprefix("cmdstat_")] = int(value["calls"])
    return counters


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
    server: Server, args: argparse.Namespace, redis_client: redis.Redis | None
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
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
        server_cpu = server.cpu()
        client_cpu = time.process_time()
        busy_cpu = machine_busy_cpu()
        started = time.perf_counter()
        latencies = await load(client, path, headers, args.requests, args.concurrency)
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_cpu = server.cpu() - server_cpu
        other_cpu = machine_busy_cpu() - busy_cpu - server_cpu - client_cpu
        if redis_client is not None:
            redis_delta = delta(delta(redis_counters(redis_client), redis_before), calibration)

    result: dict[str, Any] = {
        key: getattr(args, key) for key in ("backend", "requests", "concurrency", "rate_limits")
    }
    result |= latency_summary(latencies) | {"elapsed_s": elapsed}
    result |= {"req_per_s": args.requests / elapsed, "server_cpu_s": server_cpu, "client_cpu_s": client_cpu}
    result["other_cpu_s"] = other_cpu  # Everything else on the machine (MariaDB, Redis, other users).
    if redis_client is not None:
        result["redis_commands_per_req"] = redis_delta.pop("commands_processed") / args.requests
        result["redis_round_trips_per_req"] = redis_delta.pop("reads_processed") / args.requests
        result["redis_cpu_us_per_req"] = redis_delta.pop("cpu_us") / args.requests
        # The server's pool is warm: a new connection means another Redis user skewed the global counters.
        result["redis_new_connections"] = redis_delta.pop("connections_received")
        result["redis_commands_by_name_per_req"] = {
            name: calls / args.requests for name, calls in sorted(redis_delta.items()) if calls
        }
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    env = {"SINPLUMA_RATE_LIMITS": "off"} if args.rate_limits == "off" else None
    with running_server(args.backend, env=env) as server:
        if args.backend == "sqlite":
            return asyncio.run(measure(server, args, None))
        redis_client = redis.Redis.from_url(REDIS_URL)
        try:
            return asyncio.run(measure(server, args, redis_client))
        finally:
            redis_client.close()


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
            f"redis per request: {result['redis_cpu_us_per_req']:.1f} us of CPU, "
            f"{result['redis_round_trips_per_req']:.3f} round trips, "
            f"{result['redis_commands_per_req']:.3f} commands, a script's own included ({by_name or 'none'})"
        )
        if result["redis_new_connections"]:
            lines.append(f"WARNING: {result['redis_new_connections']} new Redis connections: other traffic")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="Latency of an authenticated GET /user/<username>.")
    parser.add_argument("--backend", choices=("sqlite", "mariadb"), required=True)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument(
        "--rate-limits", choices=("on", "off"), default="on", help="off: measure without counting"
    )
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
