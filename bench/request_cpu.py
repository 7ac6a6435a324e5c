"""Server CPU per request, one request at a time: two checkouts alternated, many short rounds.

Run (the machine-wide lock held):
  flock /tmp/sinpluma-bench.lock .venv/bin/python bench/request_cpu.py \
      --before ../before [--after .] [--rounds 5] [--requests 2000]

Each round serves each checkout in turn (the order alternating round by round) with one Hypercorn
worker on a fresh MariaDB database + Redis, seeds 20 published 20 KB pages, and sends, one after
another on one keep-alive connection, `--requests` authenticated reader GETs of those pages and
as many unconditional 20 KB PUTs of them, after 200 of each as warm-up. With no request waiting
for another, the server's CPU per request is the request's own cost, free of the queueing and
core-sharing that move the loaded figures of bench/side_by_side.py by 15 % from one minute to the
next; alternating short rounds spreads the machine's drift over both sides.

A second server process of the same service (same database, same Redis prefix), which no request
reaches, runs alongside: its CPU per request (`bystander_cpu_ms`) is what each request costs every
other process of a deployment, such as hearing of a save it has no socket for.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from harness import named_processes_cpu, process_tree_cpu, running_server
from seeding import seed_pages
from servers import PROJECT_ROOT, LiveServer

READ_PAGES = 20
WARMUP = 200


def timed_requests(client: httpx.Client, pids: tuple[int, int], count: int, send: Any) -> dict[str, float]:
    """Per request: the CPU of the server `pids[0]`, of the bystander `pids[1]`, and of MariaDB."""
    for index in range(WARMUP):
        send(client, index)
    server_before, bystander_before = (process_tree_cpu(pid) for pid in pids)
    mariadb_before = named_processes_cpu("mariadbd")
    started = time.perf_counter()
    for index in range(count):
        send(client, index)
    elapsed = time.perf_counter() - started
    server_after, bystander_after = (process_tree_cpu(pid) for pid in pids)
    return {
        "server_cpu_ms": round(1000 * (server_after - server_before) / count, 3),
        "bystander_cpu_ms": round(1000 * (bystander_after - bystander_before) / count, 3),
        "mariadb_cpu_ms": round(1000 * (named_processes_cpu("mariadbd") - mariadb_before) / count, 3),
        "wall_ms": round(1000 * elapsed / count, 3),
    }


def measure(source: Path, count: int) -> dict[str, dict[str, float]]:
    with running_server("mariadb", workers=1, env={"SINPLUMA_BCRYPT_ROUNDS": "4"}, source=source) as server:
        assert server.database is not None
        pages = seed_pages(server.url, server.database, READ_PAGES, 1, 1)
        reader = {"Authorization": f"Bearer {pages.reader_token}"}
        writer = {"Authorization": f"Bearer {pages.writer_token}", "Content-Type": "application/json"}

        def read(client: httpx.Client, index: int) -> None:
            response = client.get(f"/pages/{pages.published[index % READ_PAGES]}", headers=reader)
            assert response.status_code == 200, response.text

        def save(client: httpx.Client, index: int) -> None:
            path = f"/pages/{pages.published[index % READ_PAGES]}"
            response = client.put(path, headers=writer, content=pages.save_body)
            assert response.status_code == 200, response.text

        with (
            LiveServer(server.env, workers=1, source=source) as bystander,
            httpx.Client(base_url=server.url, timeout=30) as client,
        ):
            pids = (server.process.pid, bystander.process.pid)
            return {
                "read": timed_requests(client, pids, count, read),
                "save": timed_requests(client, pids, count, save),
            }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the code before")
    parser.add_argument("--after", type=Path, default=PROJECT_ROOT, help="the code after (this checkout)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    sides = [("before", args.before.resolve()), ("after", args.after.resolve())]
    for round_number in range(1, args.rounds + 1):
        for label, source in sides if round_number % 2 else sides[::-1]:
            for scenario, figures in measure(source, args.requests).items():
                line = {"round": round_number, "code": label, "scenario": scenario, **figures}
                print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
