"""Pages: listing, creating, publishing and deleting; `pages.reading` reads one, `pages.saves` saves."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, select

from sinpluma_async.db.engines import Database
from sinpluma_async.db.types import utcnow
from sinpluma_async.pages import positions, slate
from sinpluma_async.pages.models import PAGES, Page
from sinpluma_async.pages.saves import stored_content
from sinpluma_async.pages.schemas import PageEditor, PageSummary
from sinpluma_async.pages.summaries import page_summary, visible_pages
from sinpluma_async.pages.write_locks import page_for_writing
from sinpluma_async.pagination import PageQuery, Slice
from sinpluma_async.reader_copies.copies import ReaderCopies
from sinpluma_async.visibility import (
    notebook_for_reading,
    notebook_for_writing,
)


def editor_page(page: Page) -> PageEditor:
    return PageEditor(
        page_id=page.id,
        notebook_id=page.notebook_id,
        title=page.title,
        position=page.position,
        content=json.loads(page.content),
        version=page.version,
        published=page.published,
        published_at=page.published_at,
        updated_at=page.updated_at,
    )


async def list_pages(
    *, db: Database, viewer_id: int | None, notebook_id: int, page: PageQuery
) -> Slice[PageSummary]:
    """The summaries of a notebook's pages the viewer can see, by position."""
    async with db.snapshot() as session:
        notebook = await notebook_for_reading(session, notebook_id=notebook_id, viewer_id=viewer_id)
        base = visible_pages(notebook_id=notebook_id, viewer_id=viewer_id)
        total = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
        rows = (
            await session.execute(base.order_by(Page.position).limit(page.per_page).offset(page.offset))
        ).scalars()
        owner = notebook.author_id == viewer_id
        return Slice([page_summary(row, as_owner=owner) for row in rows], total)


async def create_page(
    *, db: Database, viewer_id: int, notebook_id: int, title: str, content: list[Any] | None
) -> PageEditor:
    """Append a page to the author's notebook, at the next position."""
    stored = slate.DEFAULT_CONTENT_JSON if content is None else stored_content(content)
    async with db.transaction() as session:
        notebook = await notebook_for_writing(session, notebook_id=notebook_id, viewer_id=viewer_id)
        now = utcnow()
        page = Page(
            notebook_id=notebook_id,
            position=await positions.page_count(await session.connection(), notebook_id) + 1,
            title=title,
            content=stored,
            version=1,
            published=False,
            created_at=now,
            updated_at=now,
        )
        session.add(page)
        notebook.updated_at = now
        await session.flush()
        return editor_page(page)


async def set_published(
    *, db: Database, copies: ReaderCopies, viewer_id: int, page_id: int, published: bool
) -> PageEditor:
    """Publish (copy the draft title and content to readers) or unpublish the author's page."""
    async with db.transaction() as session:
        now = utcnow()
        locked = await page_for_writing(
            await session.connection(), page_id=page_id, viewer_id=viewer_id, now=now
        )
        page = await session.get_one(Page, locked.id, populate_existing=True)
        if published:
            page.published_title = page.title
            page.published_content = page.content
            page.published_text = slate.plain_text(json.loads(page.content))
            page.published_at = now
        else:
            page.published_title = page.published_content = page.published_text = None
            page.published_at = None
        page.published = published
        await session.flush()
        changed = editor_page(page)
    await copies.renew(changed.notebook_id)
    return changed


async def delete_page(*, db: Database, copies: ReaderCopies, viewer_id: int, page_id: int) -> None:
    """Delete the author's page; the pages after it move up one position."""
    async with db.connection_transaction() as connection:
        page = await page_for_writing(connection, page_id=page_id, viewer_id=viewer_id, now=utcnow())
        await connection.execute(delete(PAGES).where(PAGES.c.id == page.id))
        await positions.close_gap(connection, page.notebook_id, page.position)
    await copies.renew(page.notebook_id)
