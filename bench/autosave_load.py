"""Editors on the autosave websocket: ack latency under load, and the memory of idle connections.

Run:
  .venv/bin/python bench/autosave_load.py --editors 1000 [--seconds 30] [--workers 2] [--profile DIR]
  .venv/bin/python bench/autosave_load.py --editors 5000 --idle [--compression none]
  .venv/bin/python bench/autosave_load.py --editors 1000 --floor

Each editor holds one authenticated socket and, unless --idle, saves a 5-20 KB Slate document of
its own page every 2 seconds; editors start spread over those 2 seconds so that they do not fire
together. MariaDB + Redis; bcrypt runs at 4 rounds since only logins use it, before measuring.
The client runs in this process and shares the machine's cores with the server: its CPU is reported.
`--floor` sends the same saves to bench/bare_app.py's socket on the same Hypercorn settings: each
save parsed and carried to MariaDB in one round trip, after one to Redis, and acked, with nothing
of the service around it; what a socket save would cost if the service's own layers cost nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from harness import cpu_now, expect, latency_summary, mysql_connection, running_server
from profile_top import sampled
from seeding import WORDS
from side_by_side import bare_server
from websockets.asyncio.client import ClientConnection, connect

from sinpluma_async.pages import slate

PERIOD_S = 2.0
USERS = 100
WARMUP_S = 6.0


def documents(count: int) -> list[str]:
    """Serialized Slate documents between 5 and 20 KB."""
    rng = random.Random(3)
    result = []
    for index in range(count):
        target = 5 * 1024 + (15 * 1024 * index) // max(1, count - 1)
        paragraphs: list[dict[str, Any]] = []
        while len(json.dumps(paragraphs)) < target:
            text = " ".join(rng.choices(WORDS, k=40))
            paragraphs.append({"type": "paragraph", "children": [{"text": text}]})
        result.append(json.dumps(paragraphs, ensure_ascii=False))
    return result


def server_memory_mib(root: int) -> float:
    pids = [root, *map(int, Path(f"/proc/{root}/task/{root}/children").read_text().split())]
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def seed_pages(database: str, notebooks: dict[int, int], per_user: int) -> dict[int, list[int]]:
    """`per_user` pages in each user's notebook, straight into the database; ids by user."""
    content = slate.DEFAULT_CONTENT_JSON
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    with mysql_connection(database) as connection, connection.cursor() as cursor:
        rows = [
            (notebook_id, position, "", content, now, now)
            for notebook_id in notebooks.values()
            for position in range(1, per_user + 1)
        ]
        cursor.executemany(
            "INSERT INTO pages (notebook_id, position, title, content, version, published, created_at,"
            " updated_at) VALUES (%s, %s, %s, %s, 1, 0, %s, %s)",
            rows,
        )
        cursor.execute(
            "SELECT n.author_id, p.id FROM pages p JOIN notebooks n ON n.id = p.notebook_id ORDER BY p.id"
        )
        pages: dict[int, list[int]] = {}
        for author_id, page_id in cursor.fetchall():
            pages.setdefault(author_id, []).append(page_id)
    return pages


async def accounts(url: str, database: str, editors: int) -> list[tuple[str, int]]:
    """(token, page id) for every editor: USERS users, each editing several of their pages."""
    users = min(USERS, editors)
    tokens: dict[int, str] = {}
    notebooks: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for _ in range(users):
            username, password = f"e{secrets.token_hex(5)}", secrets.token_urlsafe(12)
            body = {"username": username, "email": f"{username}@example.com", "password": password}
            user_id = expect(await client.post("/user/register", json=body), 201).json()["user_id"]
            login = await client.post("/user/login", json={"username": username, "password": password})
            tokens[user_id] = expect(login, 200).json()["access_token"]
            headers = {"Authorization": f"Bearer {tokens[user_id]}"}
            notebook = await client.post(
                "/notebooks/", headers=headers, json={"title": "Carga", "genre_id": 1}
            )
            notebooks[user_id] = expect(notebook, 201).json()["notebook_id"]
    pages = seed_pages(database, notebooks, -(-editors // users))
    pairs = [(tokens[user_id], page_id) for user_id, page_ids in pages.items() for page_id in page_ids]
    return pairs[:editors]


async def open_editor(url: str, token: str, compression: str | None) -> ClientConnection:
    socket = await connect(url, max_size=None, ping_interval=None, open_timeout=60, compression=compression)
    await socket.send(json.dumps({"type": "auth", "token": token}))
    ready = json.loads(await asyncio.wait_for(socket.recv(), 60))
    if ready["type"] != "ready":
        raise RuntimeError(f"not ready: {ready}")
    return socket


async def editor(
    socket: ClientConnection,
    page_id: int,
    payloads: list[str],
    offset: float,
    stop_at: float,
    measure_from: float,
    latencies: list[float],
    failures: list[str],
) -> int:
    """Save every PERIOD_S seconds, starting `offset` into the period; returns saves sent."""
    sent: dict[int, float] = {}
    seq = 0

    async def read_acks() -> None:
        async for raw in socket:
            message = json.loads(raw)
            if message["type"] == "ack":
                started = sent.pop(message["client_seq"], None)
                if started is not None and started >= measure_from:
                    latencies.append((time.perf_counter() - started) * 1000)
            else:
                failures.append(message["type"])

    reader = asyncio.create_task(read_acks())
    await asyncio.sleep(offset)
    next_at = time.perf_counter()
    while next_at < stop_at:
        seq += 1
        body = payloads[seq % len(payloads)]
        message = f'{{"type":"save","page_id":{page_id},"client_seq":{seq},"content":{body}}}'
        sent[seq] = time.perf_counter()
        await socket.send(message)
        next_at += PERIOD_S
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    await asyncio.sleep(1.0)  # the last acks
    reader.cancel()
    return seq


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    if args.floor:
        with bare_server(b"[]", workers=args.workers) as bare:
            pairs = [("not checked", page_id) for page_id in range(1, args.editors + 1)]
            return await measure(
                args, bare.process.pid, bare.url.replace("http://", "ws://") + "/floor", pairs
            )
    with running_server("mariadb", workers=args.workers, env={"SINPLUMA_BCRYPT_ROUNDS": "4"}) as server:
        assert server.database is not None
        pairs = await accounts(server.url, server.database, args.editors)
        url = server.url.replace("http://", "ws://") + "/ws/autosave"
        return await measure(args, server.process.pid, url, pairs)


async def measure(
    args: argparse.Namespace, server_pid: int, url: str, pairs: list[tuple[str, int]]
) -> dict[str, Any]:
    """Open an editor's socket for each (token, page id) and save from each; the figures."""
    idle_before = server_memory_mib(server_pid)
    connect_started = time.perf_counter()
    sockets = await open_editors(url, [token for token, _ in pairs], args.compression)
    result: dict[str, Any] = {
        "editors": len(sockets),
        "floor": args.floor,
        "workers": args.workers,
        "compression": args.compression,
        "connect_s": time.perf_counter() - connect_started,
        "server_rss_before_mib": idle_before,
    }
    if args.idle:
        await asyncio.sleep(5)
        result["server_rss_connected_mib"] = server_memory_mib(server_pid)
        result["client_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    else:
        result |= await save_from_all(args, server_pid, sockets, [page_id for _, page_id in pairs])
    for socket in sockets:
        await socket.close()
    return result


async def open_editors(url: str, tokens: list[str], compression: str) -> list[ClientConnection]:
    """Sockets opened and authenticated 200 at a time."""
    sockets: list[ClientConnection] = []
    offered = None if compression == "none" else compression
    for start in range(0, len(tokens), 200):
        batch = tokens[start : start + 200]
        sockets += await asyncio.gather(*(open_editor(url, token, offered) for token in batch))
    return sockets


async def save_from_all(
    args: argparse.Namespace, server_pid: int, sockets: list[ClientConnection], page_ids: list[int]
) -> dict[str, Any]:
    """Every editor saves for WARMUP_S and `args.seconds` more; the acks and CPU of the latter."""
    payloads = documents(16)
    latencies: list[float] = []
    failures: list[str] = []
    measure_from = time.perf_counter() + WARMUP_S
    stop_at = measure_from + args.seconds
    sampler = asyncio.create_task(sample(args, server_pid, measure_from, stop_at))
    rng = random.Random(11)
    sent = await asyncio.gather(
        *(
            editor(
                socket, page_id, payloads, rng.random() * PERIOD_S, stop_at, measure_from, latencies, failures
            )
            for socket, page_id in zip(sockets, page_ids, strict=True)
        )
    )
    cpu, figures = await sampler
    measured = len(latencies)
    return figures | {
        "seconds": args.seconds,
        "saves_sent": sum(sent),
        "acks_measured": measured,
        "acks_per_s": measured / args.seconds,
        "non_ack_messages": len(failures),
        **{f"{name}_cpu_s": round(seconds, 2) for name, seconds in cpu.items()},
        "server_cpu_ms_per_ack": round(1000 * cpu["server"] / max(1, measured), 2),
        **{f"ack_{key}": value for key, value in latency_summary(latencies or [0.0, 0.0]).items()},
    }


async def sample(
    args: argparse.Namespace, server_pid: int, measure_from: float, stop_at: float
) -> tuple[dict[str, float], dict[str, Any]]:
    """CPU spent from `measure_from` to `stop_at`, by process; the peak memory and top frames."""
    await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
    before = cpu_now(server_pid) | {"client": time.process_time()}
    rss_samples: list[float] = []
    with sampled(server_pid, args.seconds, args.profile) as top:
        while time.perf_counter() < stop_at:
            rss_samples.append(server_memory_mib(server_pid))
            await asyncio.sleep(1)
        after = cpu_now(server_pid) | {"client": time.process_time()}
        cpu = {name: value - before[name] for name, value in after.items()}
    figures: dict[str, Any] = {"server_rss_peak_mib": max(rss_samples, default=0.0)}
    if top:
        figures["top_frames"] = top
    return cpu, figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editors", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--idle", action="store_true", help="connect and authenticate only; report memory")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="the same editors against bench/bare_app.py's socket, not the service",
    )
    parser.add_argument("--profile", type=Path, help="py-spy the workers while measuring; samples go here")
    parser.add_argument(
        "--compression",
        choices=("deflate", "none"),
        default="deflate",
        help="browsers offer permessage-deflate",
    )
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it
    result = asyncio.run(bench(args))
    print(
        json.dumps(result, sort_keys=True) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
