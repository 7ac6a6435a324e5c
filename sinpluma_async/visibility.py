"""Who can see and who can change notebooks and pages: the one place these rules live.

A viewer sees a notebook they wrote or one that is published, and a page when they wrote its
notebook or both the notebook and the page are published. What a viewer cannot see is a 404;
what they can see but do not own is a 403 when they try to change it.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from sinpluma_async.errors import APIError
from sinpluma_async.notebooks.models import Notebook
from sinpluma_async.pages.models import Page


def notebook_not_found() -> APIError:
    return APIError(404, "not_found", "No such notebook")


def page_not_found() -> APIError:
    return APIError(404, "not_found", "No such page")


def not_the_author() -> APIError:
    return APIError(403, "forbidden", "Only the notebook's author may change it")


def notebook_visible_to(viewer_id: int | None) -> ColumnElement[bool]:
    """SQL condition on Notebook: the viewer may see it."""
    published = Notebook.status == "published"
    return published if viewer_id is None else or_(published, Notebook.author_id == viewer_id)


def page_visible_to(viewer_id: int | None) -> ColumnElement[bool]:
    """SQL condition on Page joined with its Notebook: the viewer may see the page."""
    public = (Notebook.status == "published") & Page.published.is_(true())
    return public if viewer_id is None else or_(public, Notebook.author_id == viewer_id)


def pages_counted_for(viewer_id: int | None) -> ColumnElement[bool]:
    """SQL condition on Page, for a notebook the viewer can already see: which pages count."""
    published = Page.published.is_(true())
    return published if viewer_id is None else or_(published, Notebook.author_id == viewer_id)


def _can_see_notebook(notebook: Notebook, viewer_id: int | None) -> bool:
    return notebook.status == "published" or notebook.author_id == viewer_id


def _can_see_page(page: Page, notebook: Notebook, viewer_id: int | None) -> bool:
    return notebook.author_id == viewer_id or (notebook.status == "published" and page.published)


def visible_notebook(notebook: Notebook | None, viewer_id: int | None) -> Notebook:
    """The notebook, already loaded, if the viewer may see it, else 404."""
    if notebook is None or not _can_see_notebook(notebook, viewer_id):
        raise notebook_not_found()
    return notebook


async def notebook_for_reading(session: AsyncSession, *, notebook_id: int, viewer_id: int | None) -> Notebook:
    """The notebook if the viewer may see it, else 404."""
    return visible_notebook(await session.get(Notebook, notebook_id), viewer_id)


async def notebook_for_writing(session: AsyncSession, *, notebook_id: int, viewer_id: int) -> Notebook:
    """The notebook, locked for this transaction, if the viewer wrote it; else 404 or 403."""
    notebook = await session.get(Notebook, notebook_id, with_for_update=True, populate_existing=True)
    if notebook is None or not _can_see_notebook(notebook, viewer_id):
        raise notebook_not_found()
    if notebook.author_id != viewer_id:
        raise not_the_author()
    return notebook


async def page_for_reading(
    session: AsyncSession, *, page_id: int, viewer_id: int | None
) -> tuple[Page, Notebook]:
    """The page and its notebook if the viewer may see the page, else 404."""
    row = (
        await session.execute(
            select(Page, Notebook).join(Notebook, Page.notebook_id == Notebook.id).where(Page.id == page_id)
        )
    ).one_or_none()
    if row is None or not _can_see_page(row[0], row[1], viewer_id):
        raise page_not_found()
    return row[0], row[1]


async def page_for_writing(session: AsyncSession, *, page_id: int, viewer_id: int) -> tuple[Page, Notebook]:
    """The page and its notebook, both locked (notebook first), if the viewer wrote them.

    Every transaction that changes pages locks the notebook row before any page row, so that
    saves, moves, creations and deletions in one notebook never deadlock one another.
    """
    notebook_id = (
        await session.execute(select(Page.notebook_id).where(Page.id == page_id))
    ).scalar_one_or_none()
    if notebook_id is None:
        raise page_not_found()
    notebook = await session.get(Notebook, notebook_id, with_for_update=True, populate_existing=True)
    page = await session.get(Page, page_id, with_for_update=True, populate_existing=True)
    if notebook is None or page is None or page.notebook_id != notebook.id:
        raise page_not_found()
    if not _can_see_page(page, notebook, viewer_id):
        raise page_not_found()
    if notebook.author_id != viewer_id:
        raise not_the_author()
    return page, notebook
