"""Latency and SQL statements of the writing domain's busiest endpoints, on MariaDB + Redis.

Run: .venv/bin/python bench/writing_latency.py [--requests 1000] [--search-requests 300] [--pages 10000]

Seeds 100 published notebooks holding `--pages` published pages straight into the database (as the
publish endpoint would store them), then times, one request after another over one keep-alive
connection: GET /notebooks/ (20 items), GET /pages/<id> in reader mode, PUT /pages/<id> with a
20 KB Slate document, and GET /search for words of several frequencies. Statements per request
come from MariaDB's own `Questions` counter.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import sys
import time
from typing import Any

import httpx
from harness import (
    Server,
    delta,
    expect,
    latency_summary,
    machine_busy_cpu,
    mysql_connection,
    running_server,
    timed,
)

from sinpluma_async.pages import slate

NOTEBOOKS = 100
STATUS_NAMES = (
    "Questions",
    "Com_select",
    "Com_insert",
    "Com_update",
    "Com_delete",
    "Com_commit",
    "Com_rollback",
)
SYLLABLES = (
    "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo la le li lo lu ma me mi mo mu na ne ni no"
)
SYLLABLES += (
    " pa pe pi po ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za ce ción ñar llo rro güe"
)


def vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    pieces = SYLLABLES.split()
    words = {"".join(rng.choice(pieces) for _ in range(rng.randint(2, 4))) for _ in range(size * 2)}
    return sorted(words)[:size]


def zipf_text(rng: random.Random, words: list[str], count: int) -> str:
    weights = [1 / (rank + 1) for rank in range(len(words))]
    return " ".join(rng.choices(words, weights=weights, k=count))


def document(rng: random.Random, words: list[str], target_bytes: int) -> list[dict[str, Any]]:
    paragraphs: list[dict[str, Any]] = []
    while len(json.dumps(paragraphs, ensure_ascii=False).encode()) < target_bytes:
        text = zipf_text(rng, words, 60)
        paragraphs.append({"type": "paragraph", "children": [{"text": text}, {"text": " fin", "bold": True}]})
    return paragraphs


def seed(database: str, writer_id: int, pages: int, words: list[str]) -> list[int]:
    """Published notebooks and pages, stored as the publish endpoint stores them; returns page ids."""
    rng = random.Random(42)
    per_notebook = max(1, pages // NOTEBOOKS)
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    with mysql_connection(database) as connection, connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO notebooks (author_id, genre_id, title, resume, status, created_at, updated_at,"
            " published_at) VALUES (%s, %s, %s, %s, 'published', %s, %s, %s)",
            [
                (writer_id, 1 + n % 10, zipf_text(rng, words, 3), zipf_text(rng, words, 40), now, now, now)
                for n in range(NOTEBOOKS)
            ],
        )
        cursor.execute("SELECT id FROM notebooks ORDER BY id")
        notebook_ids = [row[0] for row in cursor.fetchall()]
        rows = []
        for index in range(pages):
            content = document(rng, words, 1000)
            stored = slate.serialize(content)
            title = zipf_text(rng, words, 3)
            rows.append(
                (
                    notebook_ids[index // per_notebook % NOTEBOOKS],
                    index % per_notebook + 1,
                    title,
                    stored,
                    title,
                    stored,
                    slate.plain_text(content),
                    now,
                    now,
                    now,
                )
            )
        for start in range(0, len(rows), 1000):
            cursor.executemany(
                "INSERT INTO pages (notebook_id, position, title, content, version, published,"
                " published_title, published_content, published_text, published_at, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, 1, 1, %s, %s, %s, %s, %s, %s)",
                rows[start : start + 1000],
            )
        cursor.execute("SELECT id FROM pages ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def statement_counters(connection: Any) -> dict[str, int]:
    with connection.cursor() as cursor:
        names = ", ".join(f"'{name}'" for name in STATUS_NAMES)
        cursor.execute(f"SHOW GLOBAL STATUS WHERE Variable_name IN ({names})")
        return {name: int(value) for name, value in cursor.fetchall()}


async def measure(server: Server, name: str, requests: int, send: Any, connection: Any) -> dict[str, Any]:
    empty = statement_counters(connection)
    before = statement_counters(connection)
    calibration = delta(before, empty)
    server_cpu, client_cpu, busy = server.cpu(), time.process_time(), machine_busy_cpu()
    started = time.perf_counter()
    latencies = await timed(requests, send)
    elapsed = time.perf_counter() - started
    server_cpu, client_cpu = server.cpu() - server_cpu, time.process_time() - client_cpu
    statements = delta(delta(statement_counters(connection), before), calibration)
    return {
        "endpoint": name,
        "requests": requests,
        **latency_summary(latencies),
        "req_per_s": requests / elapsed,
        "server_cpu_s": server_cpu,
        "client_cpu_s": client_cpu,
        "other_cpu_s": machine_busy_cpu() - busy - server_cpu - client_cpu,
        "statements_per_req": statements.pop("Questions") / requests,
        "statements_by_kind_per_req": {
            key.removeprefix("Com_"): value / requests for key, value in sorted(statements.items()) if value
        },
    }


async def bench(server: Server, args: argparse.Namespace) -> list[dict[str, Any]]:
    rng = random.Random(7)
    words = vocabulary(random.Random(1))
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        username, password = f"bench_{secrets.token_hex(4)}", secrets.token_urlsafe(18)
        body = {"username": username, "email": f"{username}@example.com", "password": password}
        writer_id = expect(await client.post("/user/register", json=body), 201).json()["user_id"]
        login = expect(
            await client.post("/user/login", json={"username": username, "password": password}), 200
        )
        owner = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert server.database is not None
        page_ids = seed(server.database, writer_id, args.pages, words)
        saved_page = page_ids[0]
        edits = [document(rng, words, 20 * 1024) for _ in range(8)]
        frequent, middling, rare = words[0], words[40], words[2000]
        queries = {
            f"search frequent word ({frequent})": frequent,
            f"search mid-frequency word ({middling})": middling,
            f"search rare word ({rare})": rare,
            f"search two words ({frequent} {middling})": f"{frequent} {middling}",
            "search 2-letter word (LIKE fallback)": "fi",
        }
        steps: list[tuple[str, int, Any]] = [
            ("GET /notebooks/ (20 items)", args.requests, lambda i: client.get("/notebooks/?scope=public")),
            (
                "GET /pages/<id> reader",
                args.requests,
                lambda i: client.get(f"/pages/{page_ids[rng.randrange(len(page_ids))]}"),
            ),
            (
                "PUT /pages/<id> 20 KB Slate",
                args.requests,
                lambda i: client.put(
                    f"/pages/{saved_page}", headers=owner, json={"content": edits[i % len(edits)]}
                ),
            ),
        ]
        steps += [
            (
                name,
                args.search_requests,
                lambda i, q=query: client.get("/search", params={"q": q, "kind": "page"}),
            )
            for name, query in queries.items()
        ]
        results = []
        with mysql_connection() as connection:
            for name, requests, send in steps:
                await timed(20, send)  # warm-up
                results.append(await measure(server, name, requests, send, connection))
        hits = {
            name: (await client.get("/search", params={"q": q, "kind": "page"})).json()["total"]
            for name, q in queries.items()
        }
        for result in results:
            if result["endpoint"] in hits:
                result["matching_pages"] = hits[result["endpoint"]]
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--search-requests", type=int, default=300)
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with running_server("mariadb") as server:
        results = asyncio.run(bench(server, args))
    for result in results:
        extra = f" ({result['matching_pages']} matching pages)" if "matching_pages" in result else ""
        print(
            f"{result['endpoint']}{extra}: p50 {result['p50_ms']:.2f} p90 {result['p90_ms']:.2f} "
            f"p99 {result['p99_ms']:.2f} mean {result['mean_ms']:.2f} ms, {result['req_per_s']:.0f} req/s, "
            f"server cpu {result['server_cpu_s']:.2f} s, client cpu {result['client_cpu_s']:.2f} s, "
            f"{result['statements_per_req']:.2f} statements/req {result['statements_by_kind_per_req']}"
        )
        if args.json:
            print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
