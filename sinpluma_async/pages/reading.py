"""Reading one page: the columns its answer needs, and the stored document passed through.

A page's document was validated and stored as canonical JSON when it was written
(`saves.stored_content`), so a read never parses, validates or re-encodes it: the stored text goes
into the response as an orjson Fragment. The answer has the fields and order of `PageEditor` and
`PageReader`, which stay the route's declared response model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson
from sqlalchemy import bindparam, select

from sinpluma_async.contract import format_timestamp
from sinpluma_async.db.engines import Database
from sinpluma_async.errors import forbidden
from sinpluma_async.notebooks.models import NOTEBOOKS, NotebookStatus
from sinpluma_async.pages.models import PAGES
from sinpluma_async.visibility import can_see_page, page_not_found

Mode = Literal["reader", "editor"]
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
class PageBody:
    """A page's answer, encoded. `version` is the draft's (editor mode only); `shared` says that
    anyone may read it (the page and its notebook are published)."""

    json: bytes
    version: int | None
    shared: bool


async def read_page(*, db: Database, viewer_id: int | None, page_id: int, mode: Mode) -> PageBody:
    """Reader mode: the published copy. Editor mode: the draft, for the author only."""
    statement = _EDITOR_READ if mode == "editor" else _READER_READ
    row = await db.read_row(statement, {"page_id": page_id})
    if row is None or not can_see_page(
        author_id=row.author_id, status=row.status, published=row.published, viewer_id=viewer_id
    ):
        raise page_not_found()
    shared = row.status == NotebookStatus.PUBLISHED and bool(row.published)
    if mode == "editor":
        if row.author_id != viewer_id:
            raise forbidden("Only the author may open a page in editor mode")
        return PageBody(_editor_json(page_id, row), row.version, shared)
    if not row.published:
        raise page_not_found()
    return PageBody(_reader_json(page_id, row), None, shared)


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


def _reader_json(page_id: int, row: Any) -> bytes:
    return orjson.dumps(
        {
            "page_id": page_id,
            "notebook_id": row.notebook_id,
            "title": row.published_title or "",
            "position": row.position,
            "content": orjson.Fragment(row.published_content or EMPTY_DOCUMENT),
            "published_at": _timestamp(row.published_at),
        }
    )
