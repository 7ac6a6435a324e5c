"""Pages for bench/side_by_side.py: two accounts through the API, 20 KB pages straight into MariaDB."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from harness import expect, mysql_connection

from sinpluma_async.pages import slate

PAGE_BYTES = 20 * 1024
WORDS = [
    "palabra",
    "escribir",
    "cuaderno",
    "página",
    "borrador",
    "acción",
    "ficción",
    "poesía",
    "teatro",
    "ensayo",
]


@dataclass(frozen=True)
class PageSet:
    """Tokens and page ids: published pages of one notebook, one page in each of many notebooks, and
    many pages of one notebook."""

    writer_token: str
    reader_token: str
    published: list[int]
    own_notebook: list[int]
    one_notebook: list[int]
    save_body: str


def page_document(target_bytes: int = PAGE_BYTES) -> list[dict[str, Any]]:
    """A Slate document of about `target_bytes` serialized: paragraphs of 40 words, some in bold."""
    paragraphs: list[dict[str, Any]] = []
    size, index = 2, 0
    while size < target_bytes:
        text = " ".join(WORDS[(index + n) % len(WORDS)] for n in range(40))
        paragraph = {"type": "paragraph", "children": [{"text": text}, {"text": " fin", "bold": True}]}
        paragraphs.append(paragraph)
        size += len(json.dumps(paragraph, ensure_ascii=False).encode()) + 1
        index += 1
    return paragraphs


def account(client: httpx.Client, username: str) -> tuple[int, str]:
    password = f"{username}-secret-words"
    body = {"username": username, "email": f"{username}@example.com", "password": password}
    user_id = expect(client.post("/user/register", json=body), 201).json()["user_id"]
    login = client.post("/user/login", json={"username": username, "password": password})
    return user_id, expect(login, 200).json()["access_token"]


def notebooks(cursor: Any, author_id: int, count: int, status: str) -> list[int]:
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    cursor.executemany(
        "INSERT INTO notebooks (author_id, genre_id, title, resume, status, created_at, updated_at,"
        " published_at) VALUES (%s, 1, 'Carga', '', %s, %s, %s, %s)",
        [(author_id, status, now, now, now if status == "published" else None) for _ in range(count)],
    )
    cursor.execute(
        "SELECT id FROM notebooks WHERE author_id = %s ORDER BY id DESC LIMIT %s", (author_id, count)
    )
    return sorted(row[0] for row in cursor.fetchall())


def pages(cursor: Any, layout: list[tuple[int, int]], stored: str, text: str) -> list[int]:
    """Published pages at (notebook, position); their ids in that order."""
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    cursor.executemany(
        "INSERT INTO pages (notebook_id, position, title, content, version, published, published_title,"
        " published_content, published_text, published_at, created_at, updated_at)"
        " VALUES (%s, %s, 'Página', %s, 1, 1, 'Página', %s, %s, %s, %s, %s)",
        [(notebook, position, stored, stored, text, now, now, now) for notebook, position in layout],
    )
    cursor.execute("SELECT id FROM pages ORDER BY id DESC LIMIT %s", (len(layout),))
    return sorted(row[0] for row in cursor.fetchall())


def seed_pages(url: str, database: str, published: int, editors: int, contended: int) -> PageSet:
    with httpx.Client(base_url=url, timeout=60) as client:
        writer_id, writer_token = account(client, "autora")
        _, reader_token = account(client, "lectora")
    document = page_document()
    stored, text = slate.serialize(document), slate.plain_text(document)
    with mysql_connection(database) as connection, connection.cursor() as cursor:
        (shelf,) = notebooks(cursor, writer_id, 1, "published")
        read_ids = pages(cursor, [(shelf, position) for position in range(1, published + 1)], stored, text)
        own = notebooks(cursor, writer_id, editors, "draft")
        own_ids = pages(cursor, [(notebook, 1) for notebook in own], stored, text)
        (crowded,) = notebooks(cursor, writer_id, 1, "draft")
        crowded_ids = pages(
            cursor, [(crowded, position) for position in range(1, contended + 1)], stored, text
        )
    body = json.dumps({"content": document}, ensure_ascii=False)
    return PageSet(writer_token, reader_token, read_ids, own_ids, crowded_ids, body)
