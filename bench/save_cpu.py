"""CPU of one autosave's database work: `pages.saves.save_draft` on MariaDB, in this process.

Run: .venv/bin/python bench/save_cpu.py [--saves 3000] [--runs 2]

Saves 5-20 KB Slate documents to 20 pages of one notebook, one after another, after 200 saves of
warm-up, and reports the CPU per save of this process (validation, serialization, escaping,
SQLAlchemy or the driver, aiomysql) and of `mariadbd`. `locked` is the first save of a page from
a socket (it reads and locks the page first); `revision` is every later one, which starts from
the revision the previous save left. Nothing else runs: no server, no websocket, no Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from typing import Any

from autosave_load import documents
from harness import mysql_admin, mysql_connection, named_processes_cpu

from sinpluma_async.cli import migrate
from sinpluma_async.db.engines import Database
from sinpluma_async.pages.saves import AUTOSAVE_STATEMENTS, PageRevision, save_draft
from sinpluma_async.realtime.events import LocalEventBus
from sinpluma_async.realtime.saves import SaveAnnouncements

PAGES = 20
WARMUP_SAVES = 200


def seed(database: str) -> tuple[int, list[int]]:
    """A user, one notebook and its pages; the user's id and the page ids."""
    with mysql_connection(database) as connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO users (username, email, password_hash, display_name, bio, created_at, updated_at)"
            " VALUES ('bench', 'bench@example.com', 'x', 'bench', '', NOW(), NOW())"
        )
        user_id = cursor.lastrowid
        cursor.execute(
            "INSERT INTO notebooks (author_id, title, resume, genre_id, status, created_at, updated_at)"
            " VALUES (%s, 'Carga', '', 1, 'draft', NOW(), NOW())",
            (user_id,),
        )
        notebook_id = cursor.lastrowid
        page_ids = []
        for position in range(1, PAGES + 1):
            cursor.execute(
                "INSERT INTO pages (notebook_id, position, title, content, version, published, created_at,"
                " updated_at) VALUES (%s, %s, '', '[]', 1, 0, NOW(), NOW())",
                (notebook_id, position),
            )
            page_ids.append(cursor.lastrowid)
    return user_id, page_ids


async def measure(url: str, user_id: int, page_ids: list[int], saves: int, mode: str) -> dict[str, Any]:
    contents = [json.loads(document) for document in documents(16)]
    database = Database(url, prepared=AUTOSAVE_STATEMENTS)
    # As in a server with no socket watching: each save queues its `page.updated` and moves on.
    announcer = SaveAnnouncements(LocalEventBus())
    revisions: dict[int, PageRevision] = {}

    async def save(index: int) -> None:
        page_id = page_ids[index % len(page_ids)]
        since = revisions.get(page_id) if mode == "revision" else None
        revisions[page_id] = await save_draft(
            db=database,
            announcer=announcer,
            origin=None,
            viewer_id=user_id,
            page_id=page_id,
            content=contents[index % 16],
            since=since,
        )

    try:
        for index in range(WARMUP_SAVES):
            await save(index)
        process_before, mariadb_before = time.process_time(), named_processes_cpu("mariadbd")
        started = time.perf_counter()
        for index in range(saves):
            await save(index)
        elapsed = time.perf_counter() - started
        process_s = time.process_time() - process_before
        mariadb_s = named_processes_cpu("mariadbd") - mariadb_before
    finally:
        await database.dispose()
    return {
        "mode": mode,
        "saves": saves,
        "process_cpu_ms_per_save": round(1000 * process_s / saves, 3),
        "mariadb_cpu_ms_per_save": round(1000 * mariadb_s / saves, 3),
        "wall_ms_per_save": round(1000 * elapsed / saves, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    for _ in range(args.runs):
        for mode in ("locked", "revision"):
            database = f"sinpluma_bench_{secrets.token_hex(4)}"
            mysql_admin(f"CREATE DATABASE {database} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            try:
                url = f"mysql+aiomysql://root@127.0.0.1:3306/{database}?charset=utf8mb4"
                migrate(url)  # before the event loop: Alembic runs its own
                user_id, page_ids = seed(database)
                print(json.dumps(asyncio.run(measure(url, user_id, page_ids, args.saves, mode))))
            finally:
                mysql_admin(f"DROP DATABASE IF EXISTS {database}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
