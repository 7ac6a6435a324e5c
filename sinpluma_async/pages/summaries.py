"""A notebook's table of contents: the summaries of the pages a viewer can see, by position."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from sinpluma_async.notebooks.models import Notebook
from sinpluma_async.pages.models import Page
from sinpluma_async.pages.schemas import PageSummary
from sinpluma_async.visibility import page_visible_to


def visible_pages(*, notebook_id: int, viewer_id: int | None) -> Select[Page]:
    """The notebook's pages the viewer can see (unordered, for counting or paging)."""
    return (
        select(Page)
        .join(Notebook, Page.notebook_id == Notebook.id)
        .where(Page.notebook_id == notebook_id, page_visible_to(viewer_id))
    )


def page_summary(page: Page, *, as_owner: bool) -> PageSummary:
    """The author sees draft titles; everyone else the published title."""
    title = page.title if as_owner else (page.published_title or "")
    return PageSummary(
        page_id=page.id,
        title=title,
        position=page.position,
        published=page.published,
        updated_at=page.updated_at,
    )


async def page_summaries(
    session: AsyncSession, *, notebook_id: int, viewer_id: int | None, as_owner: bool
) -> list[PageSummary]:
    """Every page of the notebook the viewer can see, summarised, by position."""
    pages = await session.execute(
        visible_pages(notebook_id=notebook_id, viewer_id=viewer_id).order_by(Page.position)
    )
    return [page_summary(page, as_owner=as_owner) for page in pages.scalars()]
