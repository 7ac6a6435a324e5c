"""Reading one page: the columns its answer needs, and the stored document passed through.

A page's document was validated and stored as canonical JSON when it was written
(`saves.stored_content`), so a read never parses, validates or re-encodes it: the stored text goes
into the response as an orjson Fragment. The answer has the fields and order of `PageEditor` and
`PageReader`, which stay the route's declared response model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import bindparam, select

from sinpluma_async.conditional import body_etag
from sinpluma_async.contract import format_timestamp
from sinpluma_async.db.engines import Database
from sinpluma_async.errors import forbidden
from sinpluma_async.notebooks.models import NOTEBOOKS, NotebookStatus
from sinpluma_async.pages.models import PAGES
from sinpluma_async.reader_copies.copies import ReaderAnswer, ReaderCopies
from sinpluma_async.visibility import can_see_page, page_not_found

EMPTY_DOCUMENT = "[]"


def _page_read(*columns: Any) -> Any:
    """One statement, built once: the page's columns and what visibility needs of its notebook."""
    return (
        select(PAGES.c.notebook_id, PAGES.c.position, PAGES.c.published, *columns)
        .add_columns(NOTEBOOKS.c.author_id, NOTEBOOKS.c.status)
        .join_from(PAGES, NOTEBOOKS, PAGES.c.notebook_id == NOTEBOOKS.c.id)
        .where(PAGES.c.id == bindparam("page_id"))
    )


_READER_READ = _page_read(PAGES.c.published_title, PAGES.c.published_content, PAGES.c.published_at)
_EDITOR_READ = _page_read(
    PAGES.c.title, PAGES.c.content, PAGES.c.version, PAGES.c.published_at, PAGES.c.updated_at
)
# What the reads run (`Database.read_row`): the database prepares them when it is built.
PAGE_READS = (_READER_READ, _EDITOR_READ)


@dataclass(frozen=True)
class DraftBody:
    """The draft's answer, encoded, and its version."""

    json: bytes
    version: int


@dataclass(frozen=True)
class PublishedBody:
    """The published copy's answer, encoded, and its ETag; `shared` says that anyone may read it
    (the notebook is published too)."""

    json: bytes
    etag: str
    shared: bool


async def read_draft(*, db: Database, viewer_id: int | None, page_id: int) -> DraftBody:
    """The draft, for the author only (editor mode)."""
    row = await db.read_row(_EDITOR_READ, {"page_id": page_id})
    if row is None or not can_see_page(
        author_id=row.author_id, status=row.status, published=row.published, viewer_id=viewer_id
    ):
        raise page_not_found()
    if row.author_id != viewer_id:
        raise forbidden("Only the author may open a page in editor mode")
    return DraftBody(_editor_json(page_id, row), row.version)


async def read_published_page(
    *, db: Database, copies: ReaderCopies, read: Mapping[str, bytes], viewer_id: int | None, page_id: int
) -> PublishedBody:
    """The published copy (reader mode), from this process's copy while its notebook's generation
    in `read` (what the call's round trip read) is the one it was read under."""
    check = copies.check(page_id, read)
    answer = check.fresh
    if answer is None:
        row = await db.read_row(_READER_READ, {"page_id": page_id})
        if row is None:
            raise page_not_found()
        answer = _reader_answer(page_id, row)
        copies.keep(page_id, answer, check)
    if not answer.published or not can_see_page(
        author_id=answer.author_id, status=answer.notebook_status, published=True, viewer_id=viewer_id
    ):
        raise page_not_found()
    return PublishedBody(answer.body, answer.etag, answer.notebook_status == NotebookStatus.PUBLISHED)


def _timestamp(value: Any) -> str | None:
    return None if value is None else format_timestamp(value)


def _editor_json(page_id: int, row: Any) -> bytes:
    return orjson.dumps(
        {
            "page_id": page_id,
            "notebook_id": row.notebook_id,
            "title": row.title,
            "position": row.position,
            "content": orjson.Fragment(row.content),
            "version": row.version,
            "published": bool(row.published),
            "published_at": _timestamp(row.published_at),
            "updated_at": _timestamp(row.updated_at),
        }
    )


def _reader_answer(page_id: int, row: Any) -> ReaderAnswer:
    body = b""  # what it would be is never sent: the page is not published
    if row.published:
        body = orjson.dumps(
            {
                "page_id": page_id,
                "notebook_id": row.notebook_id,
                "title": row.published_title or "",
                "position": row.position,
                "content": orjson.Fragment(row.published_content or EMPTY_DOCUMENT),
                "published_at": _timestamp(row.published_at),
            }
        )
    return ReaderAnswer(
        row.notebook_id, row.author_id, row.status, bool(row.published), body, body_etag(body)
    )
